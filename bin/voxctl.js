#!/usr/bin/env node
// Thin entry: all logic lives in dist/main.js; only this file sets the exit status.
import { run } from '../dist/main.js';

process.exitCode = await run(process.argv.slice(2));
