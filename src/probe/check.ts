/**
 * Checks a webhook's answer the way Vapi reads it (shared/vapi-reference.md §8.4, §8.6):
 * for `tool-calls`, HTTP 200 with `{"results":[{"toolCallId","result"|"error"}]}` where the id
 * matches exactly and `result`/`error` are strings; for `assistant-request`, HTTP 200 naming an
 * assistant (or a transfer, or a spoken error) within 7.5 s; for informational messages, any 2xx.
 * Pure: the sender passes in what came back.
 */
import { isJsonObject as isObj } from '../util/json.js';

export interface HttpAnswer {
  status: number;
  contentType: string | undefined;
  /** The raw body text. */
  body: string;
  latencyMs: number;
}

export interface AnswerCheck {
  /** The string Vapi would hand the model (and speak), when there is one. */
  result?: string;
  /** The error string Vapi would hand the model, when the tool answered one. */
  error?: string;
  /** Everything that would make Vapi ignore or misread the answer. Any → exit 1. */
  problems: string[];
  /** Allowed by Vapi but worth fixing (not failures). */
  warnings: string[];
  /** The parsed JSON body (assistant-request and informational messages). */
  response?: unknown;
}

/** Vapi's default `server.timeoutSeconds`. */
export const TOOL_TIMEOUT_MS = 20_000;
/** The fixed end-to-end limit for `assistant-request` answers. */
export const ASSISTANT_REQUEST_TIMEOUT_MS = 7_500;

const clip = (s: string, n = 160) => {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > n ? `${one.slice(0, n - 1)}…` : one;
};

const typeName = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

function parseBody(answer: HttpAnswer): { ok: true; value: unknown } | { ok: false } {
  if (answer.body.trim() === '') return { ok: false };
  try {
    return { ok: true, value: JSON.parse(answer.body) as unknown };
  } catch {
    return { ok: false };
  }
}

/** What the server said about a refusal (`{"error":…}` or `{"message":…}`), for the problem text. */
function serverSays(answer: HttpAnswer): string {
  const parsed = parseBody(answer);
  if (parsed.ok && isObj(parsed.value)) {
    const v = parsed.value;
    const e = isObj(v.error) ? (v.error.message ?? v.error.code) : v.error;
    const said = typeof e === 'string' ? e : typeof v.message === 'string' ? v.message : undefined;
    if (said) return `; the server said: ${clip(said)}`;
  }
  if (!parsed.ok && answer.body.trim()) return `; body: ${clip(answer.body, 80)}`;
  return '';
}

function checkStatus(answer: HttpAnswer, problems: string[], exact200: boolean, why: string): boolean {
  if (exact200 ? answer.status === 200 : answer.status >= 200 && answer.status < 300) return true;
  let p = `HTTP ${answer.status}: ${why}${serverSays(answer)}`;
  if (answer.status === 401) p += ' (is VAPI_WEBHOOK_SECRET the same here and on the receiver?)';
  if (answer.status === 403) p += ' (the receiver could not route the call to an org: is the assistant linked? see `voxctl agents list`)';
  if (answer.status >= 300 && answer.status < 400) p += ' (redirects are not followed: use the final URL)';
  problems.push(p);
  return false;
}

function checkLatency(answer: HttpAnswer, limitMs: number, problems: string[]): void {
  if (answer.latencyMs > limitMs) {
    problems.push(`the answer took ${Math.round(answer.latencyMs)} ms; Vapi gives up after ${limitMs / 1000} s`);
  }
}

/** Checks a `tool-calls` answer for one tool call. */
export function checkToolCallsAnswer(answer: HttpAnswer, expected: { toolCallId: string; name: string; timeoutMs?: number }): AnswerCheck {
  const problems: string[] = [];
  const warnings: string[] = [];
  const out: AnswerCheck = { problems, warnings };
  checkLatency(answer, expected.timeoutMs ?? TOOL_TIMEOUT_MS, problems);
  if (!checkStatus(answer, problems, true, 'Vapi ignores the body of any answer but 200, so the assistant gets no result')) return out;
  const parsed = parseBody(answer);
  if (!parsed.ok) {
    problems.push(answer.body.trim() ? `the body is not JSON (starts with: ${clip(answer.body, 60)})` : 'the body is empty; Vapi needs {"results":[…]}');
    return out;
  }
  if (answer.contentType && !/json/i.test(answer.contentType)) {
    warnings.push(`Content-Type is ${answer.contentType}; send application/json`);
  }
  const body = parsed.value;
  if (!isObj(body)) {
    problems.push(`the body is a JSON ${typeName(body)}; Vapi needs an object {"results":[…]}`);
    return out;
  }
  if (!Array.isArray(body.results)) {
    let p = body.results === undefined ? 'the body has no "results" array' : `"results" is a ${typeName(body.results)}, not an array`;
    if (body.result !== undefined) p += ' (it looks like a legacy function-call answer {"result"}; tool-calls need {"results":[{"toolCallId","result"}]})';
    else if (typeof body.error === 'string') p += ` (top-level error: ${clip(body.error)})`;
    problems.push(p);
    return out;
  }
  const results = body.results as unknown[];
  const mine = results.filter((r) => isObj(r) && r.toolCallId === expected.toolCallId) as Array<Record<string, unknown>>;
  const others = results.filter((r) => !isObj(r) || r.toolCallId !== expected.toolCallId);
  // Every entry is checked, not only the one answering this call: Vapi reads them all.
  results.forEach((r, i) => {
    if (!isObj(r)) {
      problems.push(`results[${i}] is a ${typeName(r)}, not an object`);
      return;
    }
    if (typeof r.toolCallId !== 'string') problems.push(`results[${i}] has no string "toolCallId"`);
    if (r === mine[0]) return; // checked below, in detail
    const where = `results[${i}]${typeof r.toolCallId === 'string' ? ` (toolCallId ${JSON.stringify(r.toolCallId)})` : ''}`;
    if (r.result === undefined && r.error === undefined) problems.push(`${where} has neither "result" nor "error"`);
    if (r.result !== undefined && typeof r.result !== 'string') problems.push(`${where}: "result" is a ${typeName(r.result)}; Vapi needs a string (JSON.stringify objects)`);
    if (r.error !== undefined && typeof r.error !== 'string') problems.push(`${where}: "error" is a ${typeName(r.error)}; Vapi needs a string`);
  });
  if (mine.length === 0) {
    const ids = others.filter(isObj).map((r) => r.toolCallId).filter((x) => typeof x === 'string') as string[];
    problems.push(
      `no result carries toolCallId ${expected.toolCallId}${ids.length ? ` (got ${ids.map((x) => JSON.stringify(x)).join(', ')})` : ''}; Vapi matches results by this exact id`,
    );
    return out;
  }
  if (mine.length > 1) warnings.push(`${mine.length} results carry toolCallId ${expected.toolCallId}; Vapi uses one`);
  const r = mine[0]!;
  const unknownIds = others.filter((o) => isObj(o) && typeof o.toolCallId === 'string');
  if (unknownIds.length) warnings.push(`${unknownIds.length} result(s) answer tool calls that were not made`);
  if (r.result === undefined && r.error === undefined) {
    problems.push('the result has neither "result" nor "error"');
  }
  if (r.result !== undefined) {
    if (typeof r.result === 'string') out.result = r.result;
    else problems.push(`"result" is a ${typeName(r.result)}; Vapi needs a string (JSON.stringify objects)`);
  }
  if (r.error !== undefined) {
    if (typeof r.error === 'string') out.error = r.error;
    else problems.push(`"error" is a ${typeName(r.error)}; Vapi needs a string`);
  }
  if (out.result !== undefined && out.error !== undefined) warnings.push('the result has both "result" and "error"');
  if (r.name === undefined) warnings.push('the result has no "name" (the API schema requires it)');
  else if (r.name !== expected.name) warnings.push(`the result's name is ${JSON.stringify(r.name)}, the call was to ${expected.name}`);
  const text = out.result ?? out.error;
  if (text !== undefined && /\n/.test(text)) warnings.push('the result spans several lines; Vapi recommends single-line strings');
  if (text !== undefined && text.trim() === '') warnings.push('the result is empty; the assistant has nothing to say');
  return out;
}

/** Checks the answer to an informational message or an `assistant-request`. */
export function checkEventAnswer(type: string, answer: HttpAnswer): AnswerCheck {
  const problems: string[] = [];
  const warnings: string[] = [];
  const out: AnswerCheck = { problems, warnings };
  const parsed = parseBody(answer);
  if (parsed.ok) out.response = parsed.value;
  if (type !== 'assistant-request') {
    checkLatency(answer, TOOL_TIMEOUT_MS, problems);
    checkStatus(answer, problems, false, 'Vapi counts any answer but 2xx as a failed delivery');
    return out;
  }
  checkLatency(answer, ASSISTANT_REQUEST_TIMEOUT_MS, problems);
  if (!checkStatus(answer, problems, true, 'Vapi ignores the body of any answer but 200 and drops the call')) return out;
  if (!parsed.ok || !isObj(parsed.value)) {
    problems.push('the answer is not a JSON object; Vapi needs {"assistantId"}, {"assistant"}, {"squadId"}, {"destination"} or {"error"}');
    return out;
  }
  const v = parsed.value;
  if (typeof v.error === 'string') {
    out.error = v.error;
    return out;
  }
  const named: Array<[string, (x: unknown) => boolean]> = [
    ['assistantId', (x) => typeof x === 'string' && x.length > 0],
    ['assistant', isObj],
    ['squadId', (x) => typeof x === 'string' && x.length > 0],
    ['squad', isObj],
    ['workflowId', (x) => typeof x === 'string' && x.length > 0],
    ['workflow', isObj],
    ['destination', (x) => isObj(x) && typeof x.type === 'string'],
  ];
  const found = named.find(([k, ok]) => v[k] !== undefined && ok(v[k]));
  if (!found) {
    const bad = named.find(([k]) => v[k] !== undefined);
    problems.push(
      bad
        ? `"${bad[0]}" is a ${typeName(v[bad[0]])} Vapi cannot use`
        : 'the answer names no assistant: Vapi needs "assistantId", "assistant", "squadId", "squad", "workflowId", "workflow", "destination" or "error"',
    );
    return out;
  }
  const [k] = found;
  out.result = k === 'assistantId' || k === 'squadId' || k === 'workflowId' ? `${k} ${String(v[k])}` : k === 'destination' ? `transfer to ${JSON.stringify(v[k])}` : `a transient ${k}`;
  return out;
}

/** The tool's answer as Vapi reads it: `{"result"}` or `{"error"}` (absent when there is none). */
export function answerOf(check: AnswerCheck): { result: string } | { error: string } | undefined {
  if (check.error !== undefined) return { error: check.error };
  if (check.result !== undefined) return { result: check.result };
  return undefined;
}

/** The `{code,message,hint}` that sums up a failed check (contract: top-level `error`). */
export function answerVerdict(what: string, unreachable: boolean, check: AnswerCheck, status: number | null = null): { code: string; message: string; hint: string } {
  if (unreachable) {
    return { code: 'unreachable', message: check.problems[0] ?? `${what}: no answer`, hint: 'Is the receiver running (`voxctl tunnel up`) and the URL right?' };
  }
  // The receiver refused the call before any tool ran: say why, not "malformed".
  if (status === 401) {
    return {
      code: 'unauthorized',
      message: `${what}: the receiver refused the webhook secret (HTTP 401).`,
      hint: 'Use the same VAPI_WEBHOOK_SECRET here as the receiver (it reads it when it starts: restart `voxctl tunnel up` after changing .env.local).',
    };
  }
  if (status === 403) {
    return {
      code: 'forbidden',
      message: `${what}: the receiver could not route the call to an org (HTTP 403).`,
      hint: 'Link the assistant to the org (`voxctl agents link`), or pass --org / --assistant-id of a linked one (`voxctl agents list`).',
    };
  }
  if (check.problems.length) {
    const n = check.problems.length;
    return {
      code: 'malformed_answer',
      message: `${what}: the answer would not work with Vapi (${n} problem${n === 1 ? '' : 's'}: ${check.problems[0]}${n > 1 ? '; …' : ''}).`,
      hint: 'Fix every entry listed in "problems"; Vapi needs HTTP 200 and {"results":[{"toolCallId","result"|"error"}]} with strings.',
    };
  }
  return {
    code: 'tool_error',
    message: `${what} answered an error: ${clip(check.error ?? '')}`,
    hint: 'The webhook answered, but with an error result: see "answer.error".',
  };
}
