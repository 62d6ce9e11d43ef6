/**
 * A fake of Supabase's Data API (PostgREST behind the API gateway) for msw, backed by a real
 * PGlite database: each request is translated into parameterised SQL, so constraints, defaults,
 * triggers and the schema's functions behave for real. It answers the way PostgREST does:
 *
 * - the gateway wants `apikey` and `Authorization: Bearer` (401 with its JSON bodies otherwise);
 * - `GET /rest/v1/<table>`: select (columns, `alias:col`, to-one embeds `rel(cols)` / `rel!inner(…)`),
 *   filters eq/neq/gt/gte/lt/lte/in/is (and `not.`), order (incl. `rel(col)`), limit/offset capped at
 *   max-rows (1000 on Supabase), `Prefer: count=exact` with Content-Range and 206;
 * - `POST /rest/v1/<table>`: insert / upsert (`Prefer: resolution=merge-duplicates|ignore-duplicates`,
 *   `on_conflict`, `columns`, `missing=default`, `return=representation|minimal`);
 * - `POST /rest/v1/rpc/<fn>`: named arguments, scalar results, PGRST202 for an unknown function;
 * - one transaction per request; Postgres errors as `{code, details, hint, message}` with
 *   PostgREST's status table (23505/23503 → 409, 22P02 → 400, 42883 → 404…); `.single()` with
 *   0 or many rows → 406 PGRST116 (and the write is rolled back).
 *
 * Anything PostgREST supports that this fake does not is refused with a 400 (code FAKE0), so a
 * test can never pass because the fake silently ignored part of a query. Every request is
 * recorded for assertions.
 */
import { http, HttpResponse, type RequestHandler } from 'msw';
import type { PGlite, Transaction } from '@electric-sql/pglite';

export interface PostgrestFakeOptions {
  db: PGlite;
  /** Project URL, e.g. https://fake-project.supabase.co */
  url: string;
  serviceRoleKey: string;
  /** The Postgres schema served as `public` (default public). An empty schema = schema not applied. */
  pgSchema?: string;
  /** PostgREST's max-rows (Supabase's default is 1000). */
  maxRows?: number;
}

export interface RecordedRequest {
  method: string;
  /** Path below /rest/v1, e.g. `/agents` or `/rpc/voxctl_import_agents`. */
  path: string;
  /** The raw query string (without `?`), as sent. */
  search: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  /** `Prefer` tokens, e.g. ["resolution=merge-duplicates", "return=representation"]. */
  prefer: string[];
  body: unknown;
  /** The status the fake answered with. */
  status: number;
}

export interface PostgrestFake {
  handlers: RequestHandler[];
  requests: RecordedRequest[];
  /** Forget recorded requests. */
  clear(): void;
  /** Re-read tables and functions (PostgREST's schema cache reload). */
  reloadSchema(): void;
}

// ---- schema cache --------------------------------------------------------------------------

interface Column {
  name: string;
  type: string;
}
interface ForeignKey {
  name: string;
  column: string;
  refTable: string;
  refColumn: string;
}
interface Table {
  name: string;
  columns: Map<string, Column>;
  fks: ForeignKey[];
}
interface FuncArg {
  name: string;
  type: string;
  hasDefault: boolean;
}
interface Func {
  name: string;
  args: FuncArg[];
  returns: string;
  retset: boolean;
}
interface SchemaCache {
  tables: Map<string, Table>;
  funcs: Map<string, Func[]>;
}

async function loadSchema(db: PGlite, schema: string): Promise<SchemaCache> {
  const tables = new Map<string, Table>();
  const cols = await db.query<{ relname: string; attname: string; type: string }>(
    `select c.relname, a.attname, format_type(a.atttypid, a.atttypmod) as type
       from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = $1 and c.relkind in ('r', 'v', 'p') and a.attnum > 0 and not a.attisdropped
      order by c.relname, a.attnum`,
    [schema],
  );
  for (const r of cols.rows) {
    let t = tables.get(r.relname);
    if (!t) tables.set(r.relname, (t = { name: r.relname, columns: new Map(), fks: [] }));
    t.columns.set(r.attname, { name: r.attname, type: r.type });
  }
  const fks = await db.query<{ relname: string; conname: string; cols: string[]; ref: string; refcols: string[] }>(
    `select c.relname, con.conname, fc.relname as ref,
            array(select a.attname from unnest(con.conkey) with ordinality k(n, o)
                    join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.n order by k.o) as cols,
            array(select a.attname from unnest(con.confkey) with ordinality k(n, o)
                    join pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.n order by k.o) as refcols
       from pg_constraint con join pg_class c on c.oid = con.conrelid join pg_namespace n on n.oid = c.relnamespace
       join pg_class fc on fc.oid = con.confrelid
      where n.nspname = $1 and con.contype = 'f'`,
    [schema],
  );
  for (const r of fks.rows) {
    if (r.cols.length !== 1) continue; // composite keys: not embedded by this fake
    tables.get(r.relname)?.fks.push({ name: r.conname, column: r.cols[0]!, refTable: r.ref, refColumn: r.refcols[0]! });
  }
  const funcs = new Map<string, Func[]>();
  const fr = await db.query<{
    proname: string;
    proargnames: string[] | null;
    argtypes: string[];
    pronargdefaults: number;
    proretset: boolean;
    rettype: string;
  }>(
    `select p.proname, p.proargnames, p.pronargdefaults, p.proretset, format_type(p.prorettype, null) as rettype,
            array(select format_type(t, null) from unnest(p.proargtypes) with ordinality u(t, o) order by o) as argtypes
       from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      where n.nspname = $1 and p.prokind = 'f' and p.prorettype <> 'trigger'::regtype`,
    [schema],
  );
  for (const r of fr.rows) {
    const n = r.argtypes.length;
    const args = r.argtypes.map((type, i) => ({ name: r.proargnames?.[i] ?? '', type, hasDefault: i >= n - r.pronargdefaults }));
    const list = funcs.get(r.proname) ?? [];
    list.push({ name: r.proname, args, returns: r.rettype, retset: r.proretset });
    funcs.set(r.proname, list);
  }
  return { tables, funcs };
}

// ---- errors --------------------------------------------------------------------------------

class Reply extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`HTTP ${status}`);
  }
}

const pgrst = (status: number, code: string, message: string, details: string | null = null, hint: string | null = null) =>
  new Reply(status, { code, details, hint, message });

/** A PostgREST feature this fake does not implement. */
const unsupported = (what: string) => pgrst(400, 'FAKE0', `postgrest fake: ${what} is not implemented`);

/** PostgREST's table from SQLSTATE to HTTP status (docs.postgrest.org, "Errors"). */
export function httpStatusFor(code: string): number {
  const exact: Record<string, number> = {
    '23503': 409,
    '23505': 409,
    '25006': 405,
    '53400': 500,
    P0001: 400,
    '42883': 404,
    '42P01': 404,
    '42P17': 500,
    '42501': 403,
  };
  if (exact[code]) return exact[code]!;
  const prefix: Array<[string, number]> = [
    ['08', 503],
    ['09', 500],
    ['0L', 403],
    ['0P', 403],
    ['25', 500],
    ['28', 403],
    ['2D', 500],
    ['38', 500],
    ['39', 500],
    ['3B', 500],
    ['40', 500],
    ['53', 503],
    ['54', 500],
    ['55', 500],
    ['57', 500],
    ['58', 500],
    ['F0', 500],
    ['HV', 500],
    ['P0', 500],
    ['XX', 500],
  ];
  for (const [p, s] of prefix) if (code.startsWith(p)) return s;
  return 400;
}

function fromPgError(e: unknown): Reply {
  const x = e as { code?: unknown; message?: unknown; detail?: unknown; hint?: unknown };
  if (typeof x?.code === 'string' && /^[0-9A-Z]{5}$/.test(x.code)) {
    return pgrst(
      httpStatusFor(x.code),
      x.code,
      String(x.message ?? ''),
      typeof x.detail === 'string' ? x.detail : null,
      typeof x.hint === 'string' ? x.hint : null,
    );
  }
  return new Reply(500, { code: 'FAKE1', details: null, hint: null, message: `postgrest fake crashed: ${(e as Error)?.message ?? e}` });
}

// ---- query parsing -------------------------------------------------------------------------

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const q = (ident: string) => `"${ident.replace(/"/g, '""')}"`;

type SelectItem =
  | { kind: 'star' }
  | { kind: 'col'; name: string; alias: string }
  | { kind: 'embed'; rel: string; alias: string; inner: boolean; items: SelectItem[] };

/** Splits on commas outside parentheses and double quotes. */
function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let cur = '';
  for (const ch of s) {
    if (ch === '"') quoted = !quoted;
    if (!quoted && ch === '(') depth++;
    if (!quoted && ch === ')') depth--;
    if (!quoted && depth === 0 && ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

function parseSelect(s: string): SelectItem[] {
  if (s === '') throw unsupported('an empty select');
  return splitTop(s).map((raw): SelectItem => {
    if (raw === '*') return { kind: 'star' };
    const embed = /^(?:([A-Za-z_]\w*):)?([A-Za-z_]\w*)(?:!([A-Za-z_]\w*))?\((.*)\)$/s.exec(raw);
    if (embed) {
      const hint = embed[3];
      if (hint && hint !== 'inner' && hint !== 'left') throw unsupported(`embedding hint !${hint}`);
      return { kind: 'embed', alias: embed[1] ?? embed[2]!, rel: embed[2]!, inner: hint === 'inner', items: parseSelect(embed[4]!) };
    }
    const col = /^(?:([A-Za-z_]\w*):)?([A-Za-z_]\w*)$/.exec(raw);
    if (col) return { kind: 'col', alias: col[1] ?? col[2]!, name: col[2]! };
    throw unsupported(`select item "${raw}" (casts, JSON paths, aggregates, spreads)`);
  });
}

interface Ctx {
  schema: string;
  cache: SchemaCache;
  params: unknown[];
  aliasN: number;
}

function param(ctx: Ctx, value: unknown, type: string): string {
  ctx.params.push(value);
  return `$${ctx.params.length}::${type}`;
}

function table(ctx: Ctx, name: string): Table {
  const t = ctx.cache.tables.get(name);
  if (!t) {
    throw pgrst(404, 'PGRST205', `Could not find the table 'public.${name}' in the schema cache`);
  }
  return t;
}

function column(t: Table, name: string): Column {
  const c = t.columns.get(name);
  if (!c) throw pgrst(400, '42703', `column ${t.name}.${name} does not exist`);
  return c;
}

/** The to-one relationship from `t` to `rel` (t.fk → rel). */
function toOne(ctx: Ctx, t: Table, rel: string): { fk: ForeignKey; target: Table } {
  const target = ctx.cache.tables.get(rel);
  const fks = t.fks.filter((f) => f.refTable === rel);
  if (!target || fks.length === 0) {
    if (target?.fks.some((f) => f.refTable === t.name)) throw unsupported(`one-to-many embedding (${t.name} → ${rel})`);
    throw pgrst(
      400,
      'PGRST200',
      `Could not find a relationship between '${t.name}' and '${rel}' in the schema cache`,
      `Searched for a foreign key relationship between '${t.name}' and '${rel}' in the schema 'public', but no matches were found.`,
    );
  }
  if (fks.length > 1) throw unsupported(`ambiguous embedding of ${rel} (several foreign keys)`);
  return { fk: fks[0]!, target };
}

interface Projection {
  list: string[];
  /** Conditions `!inner` embeds add to the outer query. */
  conds: string[];
  /** Embeds by alias, for ordering by a related column. */
  embeds: Map<string, { fk: ForeignKey; target: Table }>;
}

function project(ctx: Ctx, t: Table, items: SelectItem[], alias: string): Projection {
  const p: Projection = { list: [], conds: [], embeds: new Map() };
  for (const it of items) {
    if (it.kind === 'star') p.list.push(`${alias}.*`);
    else if (it.kind === 'col') p.list.push(`${alias}.${q(column(t, it.name).name)} as ${q(it.alias)}`);
    else {
      const { fk, target } = toOne(ctx, t, it.rel);
      const e = `_e${++ctx.aliasN}`;
      let obj: string;
      if (it.items.length === 1 && it.items[0]!.kind === 'star') obj = `to_json(${e})`;
      else {
        const pairs = it.items.map((sub) => {
          if (sub.kind !== 'col') throw unsupported('nested embeds or * mixed with columns inside an embed');
          return `'${sub.alias}', ${e}.${q(column(target, sub.name).name)}`;
        });
        obj = `json_build_object(${pairs.join(', ')})`;
      }
      const join = `from ${q(ctx.schema)}.${q(target.name)} ${e} where ${e}.${q(fk.refColumn)} = ${alias}.${q(fk.column)}`;
      p.list.push(`(select ${obj} ${join}) as ${q(it.alias)}`);
      if (it.inner) p.conds.push(`exists (select 1 ${join})`);
      p.embeds.set(it.alias, { fk, target });
    }
  }
  return p;
}

const RESERVED = new Set(['select', 'order', 'limit', 'offset', 'on_conflict', 'columns']);
const KNOWN_OPS = new Set([
  'like', 'ilike', 'match', 'imatch', 'fts', 'plfts', 'phfts', 'wfts', 'cs', 'cd', 'ov', 'sl', 'sr', 'nxr', 'nxl', 'adj', 'isdistinct', 'any', 'all',
]);

/** Parses `(a,b,"c,d")`. */
function parseList(s: string): string[] {
  const m = /^\((.*)\)$/s.exec(s);
  if (!m) throw pgrst(400, 'PGRST100', `"failed to parse filter (in.${s})" (line 1, column 4)`, 'unexpected end of input expecting "("');
  if (m[1] === '') return [];
  return splitTop(m[1]!).map((v) => (v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1).replace(/\\"/g, '"') : v));
}

function filters(ctx: Ctx, t: Table, query: URLSearchParams, alias: string): string[] {
  const conds: string[] = [];
  for (const [key, raw] of query) {
    if (RESERVED.has(key)) continue;
    if (key === 'or' || key === 'and' || key === 'not.or' || key === 'not.and') throw unsupported(`logical filter ${key}`);
    if (key.includes('.')) throw unsupported(`filter or modifier on an embedded resource (${key})`);
    if (!IDENT.test(key)) throw unsupported(`filter key "${key}"`);
    const col = column(t, key);
    let value = raw;
    let negate = false;
    if (value.startsWith('not.')) {
      negate = true;
      value = value.slice(4);
    }
    const dot = value.indexOf('.');
    const op = dot < 0 ? value : value.slice(0, dot);
    const operand = dot < 0 ? '' : value.slice(dot + 1);
    const lhs = `${alias}.${q(col.name)}`;
    let cond: string;
    const cmp: Record<string, string> = { eq: '=', neq: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=' };
    if (cmp[op]) cond = `${lhs} ${cmp[op]} ${param(ctx, operand, col.type)}`;
    else if (op === 'in') {
      const items = parseList(operand);
      cond = items.length ? `${lhs} in (${items.map((v) => param(ctx, v, col.type)).join(', ')})` : 'false';
    } else if (op === 'is') {
      const is: Record<string, string> = { null: 'is null', not_null: 'is not null', true: 'is true', false: 'is false', unknown: 'is unknown' };
      if (!is[operand]) throw pgrst(400, 'PGRST100', `"failed to parse filter (is.${operand})" (line 1, column 4)`, 'unexpected "' + operand + '"');
      cond = `${lhs} ${is[operand]}`;
    } else if (KNOWN_OPS.has(op)) throw unsupported(`filter operator ${op}`);
    else throw pgrst(400, 'PGRST100', `"failed to parse filter (${value})" (line 1, column 1)`, `unknown operator ${op}`);
    conds.push(negate ? `not (${cond})` : cond);
  }
  return conds;
}

function orderBy(ctx: Ctx, t: Table, raw: string | null, proj: Projection, alias: string): string {
  if (raw === null) return '';
  const terms = splitTop(raw).map((term) => {
    const m = /^(?:([A-Za-z_]\w*)\(([A-Za-z_]\w*)\)|([A-Za-z_]\w*))(?:\.(asc|desc))?(?:\.(nullsfirst|nullslast))?$/.exec(term);
    if (!m) throw unsupported(`order term "${term}"`);
    const dir = m[4] === 'desc' ? ' desc' : ' asc';
    const nulls = m[5] === 'nullsfirst' ? ' nulls first' : m[5] === 'nullslast' ? ' nulls last' : '';
    if (m[3]) return `${alias}.${q(column(t, m[3]).name)}${dir}${nulls}`;
    const embed = proj.embeds.get(m[1]!);
    if (!embed) {
      throw pgrst(400, 'PGRST108', `'${m[1]}' is not an embedded resource in this request`, null, `Verify that '${m[1]}' is included in the 'select' query parameter.`);
    }
    const o = `_o${++ctx.aliasN}`;
    const sub = `(select ${o}.${q(column(embed.target, m[2]!).name)} from ${q(ctx.schema)}.${q(embed.target.name)} ${o} where ${o}.${q(embed.fk.refColumn)} = ${alias}.${q(embed.fk.column)})`;
    return `${sub}${dir}${nulls}`;
  });
  return ` order by ${terms.join(', ')}`;
}

function nonNegInt(query: URLSearchParams, key: string): number | undefined {
  const v = query.get(key);
  if (v === null) return undefined;
  if (!/^\d+$/.test(v)) throw pgrst(400, 'PGRST100', `"failed to parse ${key} parameter (${v})"`);
  return Number(v);
}

interface Prefs {
  return?: 'representation' | 'minimal';
  resolution?: 'merge-duplicates' | 'ignore-duplicates';
  missing?: 'default';
  count?: 'exact';
  tokens: string[];
}

function parsePrefer(header: string | null): Prefs {
  const tokens = (header ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const p: Prefs = { tokens };
  for (const t of tokens) {
    const [k, v] = t.split('=');
    if (k === 'return' && (v === 'representation' || v === 'minimal')) p.return = v;
    else if (k === 'resolution' && (v === 'merge-duplicates' || v === 'ignore-duplicates')) p.resolution = v;
    else if (k === 'missing' && v === 'default') p.missing = v;
    else if (k === 'count' && v === 'exact') p.count = v;
    else throw unsupported(`Prefer: ${t}`);
  }
  return p;
}

/** Whether the client asked for one object (`.single()`), or an array. */
function wantsObject(accept: string | null): boolean {
  if (!accept || accept === '*/*' || accept.startsWith('application/json')) return false;
  if (accept === 'application/vnd.pgrst.object+json') return true;
  throw unsupported(`Accept: ${accept}`);
}

function paramValue(v: unknown, type: string): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'object' || type === 'jsonb' || type === 'json') return JSON.stringify(v);
  return String(v);
}

// ---- request handling ----------------------------------------------------------------------

const JSON_HEADERS = { 'Content-Type': 'application/json; charset=utf-8' };

type Query = Pick<PGlite, 'query'> | Transaction;

async function one<T>(db: Query, sql: string, params: unknown[]): Promise<T> {
  const r = await db.query<T>(sql, params);
  return r.rows[0]!;
}

function singleRow(body: string, n: number): string {
  if (n !== 1) {
    throw pgrst(406, 'PGRST116', 'JSON object requested, multiple (or no) rows returned', `The result contains ${n} rows`);
  }
  return JSON.stringify((JSON.parse(body) as unknown[])[0]);
}

async function readTable(ctx: Ctx, db: PGlite, name: string, query: URLSearchParams, prefs: Prefs, accept: string | null, maxRows: number) {
  if (prefs.resolution || prefs.return || prefs.missing) throw unsupported(`Prefer ${prefs.tokens.join(', ')} on a read`);
  const t = table(ctx, name);
  const proj = project(ctx, t, parseSelect(query.get('select') ?? '*'), '_t');
  const conds = [...filters(ctx, t, query, '_t'), ...proj.conds];
  const where = conds.length ? ` where ${conds.join(' and ')}` : '';
  const order = orderBy(ctx, t, query.get('order'), proj, '_t');
  const offset = nonNegInt(query, 'offset') ?? 0;
  const limit = Math.min(nonNegInt(query, 'limit') ?? maxRows, maxRows);
  const from = `${q(ctx.schema)}.${q(t.name)} _t`;
  const sql = `select coalesce(json_agg(_r), '[]'::json)::text as body, count(*)::int as n
                 from (select ${proj.list.join(', ')} from ${from}${where}${order} limit ${limit} offset ${offset}) _r`;
  const single = wantsObject(accept);
  let total: number | undefined;
  const res = await db.transaction(async (tx) => {
    const r = await one<{ body: string; n: number }>(tx, sql, ctx.params);
    if (prefs.count) {
      // The same filters again, for the exact count (params are positional and shared).
      total = (await one<{ c: number }>(tx, `select count(*)::int as c from ${from}${where}`, ctx.params)).c;
    }
    return r;
  });
  if (total !== undefined && offset > total) {
    throw pgrst(416, 'PGRST103', 'Requested range not satisfiable', `An offset of ${offset} was requested, but there are only ${total} rows.`);
  }
  const range = res.n > 0 ? `${offset}-${offset + res.n - 1}/${total ?? '*'}` : `*/${total ?? '*'}`;
  const status = total !== undefined && res.n < total ? 206 : 200;
  const body = single ? singleRow(res.body, res.n) : res.body;
  return { status, body, headers: { ...JSON_HEADERS, 'Content-Range': range } };
}

function columnsParam(raw: string | null): string[] | undefined {
  if (raw === null) return undefined;
  return splitTop(raw).map((c) => (c.startsWith('"') && c.endsWith('"') ? c.slice(1, -1) : c));
}

async function insertTable(
  ctx: Ctx,
  db: PGlite,
  name: string,
  query: URLSearchParams,
  prefs: Prefs,
  accept: string | null,
  body: unknown,
) {
  const t = table(ctx, name);
  for (const key of query.keys()) {
    if (!['select', 'columns', 'on_conflict'].includes(key)) throw unsupported(`query parameter "${key}" on an insert`);
  }
  if (body === null || typeof body !== 'object') throw pgrst(400, 'PGRST102', 'Empty or invalid json');
  const rows = (Array.isArray(body) ? body : [body]) as unknown[];
  if (rows.some((r) => r === null || typeof r !== 'object' || Array.isArray(r))) throw pgrst(400, 'PGRST102', 'Empty or invalid json');
  const objs = rows as Array<Record<string, unknown>>;
  let cols = columnsParam(query.get('columns'));
  if (!cols) {
    cols = Object.keys(objs[0] ?? {});
    const same = (o: Record<string, unknown>) => {
      const k = Object.keys(o);
      return k.length === cols!.length && k.every((x) => cols!.includes(x));
    };
    if (!objs.every(same)) throw pgrst(400, 'PGRST102', 'All object keys must match');
  }
  for (const c of cols) {
    if (!t.columns.has(c)) throw pgrst(400, 'PGRST204', `Could not find the '${c}' column of '${t.name}' in the schema cache`);
  }
  const onConflict = query.get('on_conflict');
  if (onConflict !== null && !prefs.resolution) throw unsupported('on_conflict without Prefer: resolution');
  if (prefs.count) throw unsupported('Prefer: count on a write');
  const single = wantsObject(accept);
  const representation = prefs.return === 'representation';
  if (single && !representation) throw unsupported('Accept: vnd.pgrst.object+json with return=minimal');

  if (objs.length === 0) {
    return { status: 201, body: representation ? '[]' : '', headers: { ...JSON_HEADERS, 'Content-Range': '*/*' } };
  }
  const values = objs.map(
    (o) =>
      `(${cols!
        .map((c) => {
          if (!(c in o)) return prefs.missing === 'default' ? 'default' : 'null';
          const type = t.columns.get(c)!.type;
          return param(ctx, paramValue(o[c], type), type);
        })
        .join(', ')})`,
  );
  let conflict = '';
  if (prefs.resolution) {
    let target = onConflict === null ? undefined : onConflict.split(',').map((c) => column(t, c.trim()).name);
    if (!target) {
      const pk = await db.query<{ attname: string }>(
        `select a.attname from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
          where i.indrelid = $1::regclass and i.indisprimary`,
        [`${q(ctx.schema)}.${q(t.name)}`],
      );
      target = pk.rows.map((r) => r.attname);
    }
    conflict =
      prefs.resolution === 'ignore-duplicates'
        ? ` on conflict (${target.map(q).join(', ')}) do nothing`
        : ` on conflict (${target.map(q).join(', ')}) do update set ${cols.map((c) => `${q(c)} = excluded.${q(c)}`).join(', ')}`;
  }
  const insert = `insert into ${q(ctx.schema)}.${q(t.name)} (${cols.map(q).join(', ')}) values ${values.join(', ')}${conflict} returning *`;
  let sql: string;
  if (representation) {
    const proj = project(ctx, t, parseSelect(query.get('select') ?? '*'), '_t');
    if (proj.conds.length) throw unsupported('!inner embeds on a write');
    sql = `with _ins as (${insert})
           select coalesce(json_agg(_r), '[]'::json)::text as body, count(*)::int as n from (select ${proj.list.join(', ')} from _ins _t) _r`;
  } else {
    if (query.has('select')) throw unsupported('select without return=representation');
    sql = `with _ins as (${insert}) select '' as body, count(*)::int as n from _ins`;
  }
  const out = await db.transaction(async (tx) => {
    const r = await one<{ body: string; n: number }>(tx, sql, ctx.params);
    // PostgREST rolls the write back when .single() cannot be honoured.
    return single ? singleRow(r.body, r.n) : r.body;
  });
  return { status: 201, body: out, headers: { ...JSON_HEADERS, 'Content-Range': '*/*' } };
}

async function callFunction(ctx: Ctx, db: PGlite, name: string, query: URLSearchParams, prefs: Prefs, body: unknown) {
  if ([...query.keys()].length) throw unsupported('query parameters on an rpc POST');
  if (prefs.tokens.length) throw unsupported(`Prefer ${prefs.tokens.join(', ')} on rpc`);
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw unsupported('rpc with a non-object body (params=single-object)');
  const args = body as Record<string, unknown>;
  const keys = Object.keys(args).sort();
  const fn = (ctx.cache.funcs.get(name) ?? []).find(
    (f) => keys.every((k) => f.args.some((a) => a.name === k)) && f.args.every((a) => a.hasDefault || keys.includes(a.name)),
  );
  if (!fn) {
    const sig = keys.length ? `(${keys.join(', ')})` : ' without parameters';
    const searched = keys.length ? `with parameters ${keys.join(', ')}` : 'without parameters';
    throw pgrst(
      404,
      'PGRST202',
      `Could not find the function public.${name}${sig} in the schema cache`,
      `Searched for the function public.${name} ${searched} or with a single unnamed json/jsonb parameter, but no matches were found in the schema cache.`,
    );
  }
  if (fn.retset || fn.returns === 'void') throw unsupported(`functions returning ${fn.retset ? 'sets' : 'void'}`);
  const call = keys.map((k) => {
    const a = fn.args.find((x) => x.name === k)!;
    return `${q(k)} => ${param(ctx, paramValue(args[k], a.type), a.type)}`;
  });
  const sql = `select to_json(${q(ctx.schema)}.${q(fn.name)}(${call.join(', ')}))::text as body`;
  const r = await db.transaction((tx) => one<{ body: string }>(tx, sql, ctx.params));
  return { status: 200, body: r.body, headers: JSON_HEADERS };
}

export function createPostgrestFake(opts: PostgrestFakeOptions): PostgrestFake {
  const base = opts.url.replace(/\/+$/, '');
  const schema = opts.pgSchema ?? 'public';
  const maxRows = opts.maxRows ?? 1000;
  let cache: Promise<SchemaCache> | undefined;
  const requests: RecordedRequest[] = [];

  async function handle(request: Request): Promise<{ status: number; body: string; headers: Record<string, string> }> {
    const url = new URL(request.url);
    const path = url.pathname.slice('/rest/v1'.length);
    const query = url.searchParams;
    const h = request.headers;

    const apikey = h.get('apikey') ?? query.get('apikey');
    if (!apikey) throw new Reply(401, { message: 'No API key found in request', hint: 'No `apikey` request header or url param was found.' });
    if (apikey !== opts.serviceRoleKey) {
      throw new Reply(401, { message: 'Invalid API key', hint: 'Double check your Supabase `anon` or `service_role` API key.' });
    }
    const auth = h.get('authorization');
    if (!auth || !/^Bearer /i.test(auth)) throw pgrst(401, 'PGRST302', 'Anonymous access is disabled');
    if (auth.slice(7).trim() !== opts.serviceRoleKey) throw pgrst(401, 'PGRST301', 'JWSError JWSInvalidSignature');

    const profile = request.method === 'GET' || request.method === 'HEAD' ? h.get('accept-profile') : h.get('content-profile');
    if (profile && profile !== 'public') throw pgrst(406, 'PGRST106', `Invalid schema: ${profile}`, null, 'Only the following schemas are exposed: public');

    const prefs = parsePrefer(h.get('prefer'));
    cache ??= loadSchema(opts.db, schema);
    const ctx: Ctx = { schema, cache: await cache, params: [], aliasN: 0 };
    let body: unknown;
    if (request.method === 'POST') {
      const text = await request.text();
      try {
        body = text === '' ? undefined : JSON.parse(text);
      } catch {
        throw pgrst(400, 'PGRST102', 'Empty or invalid json');
      }
    }
    try {
      const rpc = /^\/rpc\/([A-Za-z_]\w*)$/.exec(path);
      if (rpc) {
        if (request.method !== 'POST') throw unsupported(`${request.method} on rpc`);
        return await callFunction(ctx, opts.db, rpc[1]!, query, prefs, body ?? {});
      }
      const tbl = /^\/([A-Za-z_]\w*)$/.exec(path);
      if (!tbl) throw unsupported(`path ${path}`);
      if (request.method === 'GET') return await readTable(ctx, opts.db, tbl[1]!, query, prefs, h.get('accept'), maxRows);
      if (request.method === 'POST') return await insertTable(ctx, opts.db, tbl[1]!, query, prefs, h.get('accept'), body);
      throw unsupported(`${request.method} on tables`);
    } catch (e) {
      if (e instanceof Reply) throw e;
      throw fromPgError(e);
    }
  }

  const handler = http.all(`${base}/rest/v1/*`, async ({ request }) => {
    const clone = request.clone();
    const url = new URL(request.url);
    const rec: RecordedRequest = {
      method: request.method,
      path: url.pathname.slice('/rest/v1'.length),
      search: url.search.replace(/^\?/, ''),
      query: url.searchParams,
      headers: Object.fromEntries(request.headers.entries()),
      prefer: (request.headers.get('prefer') ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      body: undefined,
      status: 0,
    };
    if (request.method === 'POST') {
      const text = await clone.text();
      try {
        rec.body = JSON.parse(text);
      } catch {
        rec.body = text;
      }
    }
    requests.push(rec);
    try {
      const res = await handle(request);
      rec.status = res.status;
      return new HttpResponse(res.body === '' ? null : res.body, { status: res.status, headers: res.headers });
    } catch (e) {
      const reply = e instanceof Reply ? e : fromPgError(e);
      rec.status = reply.status;
      return HttpResponse.json(reply.body as Record<string, unknown>, { status: reply.status });
    }
  });

  return {
    handlers: [handler],
    requests,
    clear: () => {
      requests.length = 0;
    },
    reloadSchema: () => {
      cache = undefined;
    },
  };
}
