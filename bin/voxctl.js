#!/usr/bin/env node
// Thin entry: all logic, and the exit status, live in dist/main.js.
import { main } from '../dist/main.js';

await main(process.argv.slice(2));
