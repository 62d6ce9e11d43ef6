-- voxctl schema (version 5).
-- Apply to Supabase with the SQL editor or `psql "$DATABASE_URL" -f schema.sql`
-- (print it with `voxctl db schema`); the embedded store applies it itself (`voxctl db migrate`).
-- Idempotent: safe to run again.

create table if not exists voxctl_schema (
  version    integer primary key,
  applied_at timestamptz not null default now()
);

create table if not exists organizations (
  id         uuid primary key default gen_random_uuid(),
  name       text not null check (length(btrim(name)) between 1 and 200),
  timezone   text not null default 'UTC',
  settings   jsonb not null default '{}'::jsonb check (jsonb_typeof(settings) = 'object'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

-- One assistant per (org, agent type); one org per Vapi assistant.
create table if not exists agents (
  id                uuid primary key default gen_random_uuid(),
  org_id            uuid not null references organizations(id) on delete cascade,
  type              text not null check (type ~ '^[a-z0-9][a-z0-9_-]{0,39}$'),
  vapi_assistant_id text not null check (length(vapi_assistant_id) between 1 and 100),
  created_at        timestamptz not null default now(),
  updated_at        timestamptz not null default now(),
  constraint agents_org_type_key unique (org_id, type),
  -- Deferrable so an import may move an assistant to another slot while re-pointing the old one.
  constraint agents_vapi_assistant_id_key unique (vapi_assistant_id) deferrable initially immediate
);

-- Version 1 created that constraint as not deferrable.
do $$
begin
  if exists (select 1 from pg_constraint
              where conname = 'agents_vapi_assistant_id_key' and conrelid = 'agents'::regclass and not condeferrable) then
    alter table agents
      drop constraint agents_vapi_assistant_id_key,
      add constraint agents_vapi_assistant_id_key unique (vapi_assistant_id) deferrable initially immediate;
  end if;
end $$;

create table if not exists contacts (
  id         uuid primary key default gen_random_uuid(),
  org_id     uuid not null references organizations(id) on delete cascade,
  email      text not null check (email = lower(email) and position('@' in email) > 1),
  phone      text,
  name       text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint contacts_org_email_key unique (org_id, email)
);

create table if not exists appointments (
  id         uuid primary key default gen_random_uuid(),
  org_id     uuid not null references organizations(id) on delete cascade,
  contact_id uuid not null references contacts(id) on delete cascade,
  starts_at  timestamptz not null,
  status     text not null default 'booked' check (status in ('booked', 'cancelled')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

-- At most one booked appointment per slot and org; cancelled ones do not hold the slot.
create unique index if not exists appointments_one_booked_per_slot
  on appointments (org_id, starts_at) where status = 'booked';
create index if not exists agents_org_id_idx on agents (org_id);
create index if not exists contacts_org_id_idx on contacts (org_id);
create index if not exists appointments_contact_id_idx on appointments (contact_id);
create index if not exists appointments_org_starts_idx on appointments (org_id, starts_at);

create or replace function voxctl_touch_updated_at() returns trigger
language plpgsql as $$
begin
  new.updated_at := now();
  return new;
end $$;

do $$
declare t text;
begin
  foreach t in array array['organizations', 'agents', 'contacts', 'appointments'] loop
    if not exists (select 1 from pg_trigger where tgname = t || '_touch_updated_at') then
      execute format('create trigger %I before update on %I for each row execute function voxctl_touch_updated_at()',
                     t || '_touch_updated_at', t);
    end if;
  end loop;
end $$;

-- Row-level security: on, with no policies, so Supabase's anon and authenticated roles see
-- nothing; the CLI uses the service-role key, which bypasses RLS. Add policies of your own if
-- an app reads these tables with user tokens.
alter table organizations enable row level security;
alter table agents enable row level security;
alter table contacts enable row level security;
alter table appointments enable row level security;
alter table voxctl_schema enable row level security;

-- Imports agent rows (jsonb array of {org_id, org_name?, type, vapi_assistant_id}) in one
-- transaction: creates the orgs that do not exist (from the first org_name given for them; an
-- existing org keeps its name) and upserts on (org_id, type). Any bad row fails the whole call;
-- messages name the row (1-based). An assistant may move to another slot when its old slot is
-- re-pointed in the same call.
create or replace function voxctl_import_agents(p_rows jsonb) returns jsonb
language plpgsql
set search_path = public, pg_temp
as $$
declare
  v_orgs integer;
  v_bad record;
begin
  if jsonb_typeof(p_rows) is distinct from 'array' then
    raise exception 'p_rows must be a JSON array' using errcode = '22023';
  end if;
  set constraints agents_vapi_assistant_id_key deferred;

  drop table if exists pg_temp.voxctl_import_rows;
  create temporary table voxctl_import_rows on commit drop as
  select x.n::integer as n, (x.e->>'org_id')::uuid as org_id, nullif(btrim(x.e->>'org_name'), '') as org_name,
         x.e->>'type' as type, x.e->>'vapi_assistant_id' as vapi_assistant_id
    from jsonb_array_elements(p_rows) with ordinality as x(e, n);

  select r.n, r.org_id into v_bad
    from pg_temp.voxctl_import_rows r
   where r.org_name is null and not exists (select 1 from organizations o where o.id = r.org_id)
   order by r.n limit 1;
  if found then
    raise exception 'row %: organization % does not exist and the row gives no org_name', v_bad.n, v_bad.org_id
      using errcode = 'P0002';
  end if;

  select d.n, d.org_id, d.type into v_bad
    from (select r.n, r.org_id, r.type, row_number() over (partition by r.org_id, r.type order by r.n) as k
            from pg_temp.voxctl_import_rows r) d
   where d.k > 1 order by d.n limit 1;
  if found then
    raise exception 'row %: org % type % appears more than once', v_bad.n, v_bad.org_id, v_bad.type
      using errcode = '22023';
  end if;

  with src as (
    select distinct on (r.org_id) r.org_id, r.org_name
      from pg_temp.voxctl_import_rows r
     where r.org_name is not null and not exists (select 1 from organizations o where o.id = r.org_id)
     order by r.org_id, r.n
  ), ins as (
    insert into organizations (id, name) select org_id, org_name from src returning 1
  )
  select count(*) into v_orgs from ins;

  insert into agents (org_id, type, vapi_assistant_id)
  select r.org_id, r.type, r.vapi_assistant_id from pg_temp.voxctl_import_rows r order by r.n
  on conflict (org_id, type) do update
    set vapi_assistant_id = excluded.vapi_assistant_id
  where agents.vapi_assistant_id is distinct from excluded.vapi_assistant_id;

  return jsonb_build_object('imported', jsonb_array_length(p_rows), 'orgsCreated', v_orgs);
end $$;

-- Books a slot atomically: upserts the contact by (org, email), inserts the appointment. A slot
-- already booked rolls the whole block back (contact included) and answers {"status":"taken"}.
create or replace function voxctl_book_slot(
  p_org_id uuid, p_starts_at timestamptz, p_email text, p_name text, p_phone text default null
) returns jsonb
language plpgsql
set search_path = public, pg_temp
as $$
declare
  v_contact uuid;
  v_appointment uuid;
begin
  begin
    insert into contacts (org_id, email, name, phone)
    values (p_org_id, lower(btrim(p_email)), p_name, p_phone)
    on conflict (org_id, email) do update
      set name = excluded.name, phone = coalesce(excluded.phone, contacts.phone)
    returning id into v_contact;

    insert into appointments (org_id, contact_id, starts_at)
    values (p_org_id, v_contact, p_starts_at)
    returning id into v_appointment;

    return jsonb_build_object('status', 'booked', 'appointmentId', v_appointment,
                              'contactId', v_contact, 'startsAt', p_starts_at);
  exception when unique_violation then
    return jsonb_build_object('status', 'taken');
  end;
end $$;

-- Cancels the contact's booked appointment at that start; true when one was cancelled.
create or replace function voxctl_cancel_appointment(p_org_id uuid, p_email text, p_starts_at timestamptz)
returns boolean
language plpgsql
set search_path = public, pg_temp
as $$
declare v_count integer;
begin
  update appointments a
     set status = 'cancelled'
    from contacts c
   where a.contact_id = c.id
     and a.org_id = p_org_id
     and c.org_id = p_org_id
     and c.email = lower(btrim(p_email))
     and a.starts_at = p_starts_at
     and a.status = 'booked';
  get diagnostics v_count = row_count;
  return v_count > 0;
end $$;

-- Version 3: claims on agent slots. `assistants upsert` claims (org, type) before it creates a
-- Vapi assistant, so racing runs create exactly one; the others wait for its id. A claim
-- expires, so a run that died cannot block its slot for ever (the next run also finds what it
-- may have created in Vapi by its metadata, so nothing is duplicated).
create table if not exists agent_claims (
  org_id     uuid not null references organizations(id) on delete cascade,
  type       text not null check (type ~ '^[a-z0-9][a-z0-9_-]{0,39}$'),
  claim_id   uuid not null,
  holder     text not null default '' check (length(holder) <= 200),
  claimed_at timestamptz not null default now(),
  expires_at timestamptz not null,
  primary key (org_id, type)
);
alter table agent_claims enable row level security;

-- Claims the slot unless it is linked (to an assistant other than p_replace_assistant) or held by
-- a live claim. An expired claim, our own, or the one named by p_take_over (its holder is known
-- to be dead) is taken over. Answers {"status":"linked","assistantId"}, {"status":"claimed",…}
-- or {"status":"busy","claimId","holder","claimedAt","expiresAt"}.
create or replace function voxctl_claim_agent_slot(
  p_org_id uuid, p_type text, p_claim_id uuid, p_holder text, p_ttl_seconds integer,
  p_replace_assistant text default null, p_take_over uuid default null
) returns jsonb
language plpgsql
set search_path = public, pg_temp
as $$
declare
  v_assistant text;
  v_claim agent_claims%rowtype;
begin
  if not exists (select 1 from organizations where id = p_org_id) then
    raise exception 'organization % does not exist', p_org_id using errcode = 'P0002';
  end if;
  select vapi_assistant_id into v_assistant from agents where org_id = p_org_id and type = p_type;
  if v_assistant is not null and v_assistant is distinct from p_replace_assistant then
    return jsonb_build_object('status', 'linked', 'assistantId', v_assistant);
  end if;

  insert into agent_claims as c (org_id, type, claim_id, holder, expires_at)
  values (p_org_id, p_type, p_claim_id, left(coalesce(p_holder, ''), 200), now() + make_interval(secs => p_ttl_seconds))
  on conflict (org_id, type) do update
     set claim_id = excluded.claim_id, holder = excluded.holder, claimed_at = now(), expires_at = excluded.expires_at
   where c.expires_at <= now() or c.claim_id = excluded.claim_id or c.claim_id = p_take_over;

  select * into v_claim from agent_claims where org_id = p_org_id and type = p_type;
  if v_claim.claim_id is distinct from p_claim_id then
    return jsonb_build_object('status', 'busy', 'claimId', v_claim.claim_id, 'holder', v_claim.holder,
                              'claimedAt', v_claim.claimed_at, 'expiresAt', v_claim.expires_at);
  end if;
  -- A racer may have linked the slot between our first look and the claim: look again.
  select vapi_assistant_id into v_assistant from agents where org_id = p_org_id and type = p_type;
  if v_assistant is not null and v_assistant is distinct from p_replace_assistant then
    delete from agent_claims where org_id = p_org_id and type = p_type and claim_id = p_claim_id;
    return jsonb_build_object('status', 'linked', 'assistantId', v_assistant);
  end if;
  return jsonb_build_object('status', 'claimed', 'expiresAt', v_claim.expires_at);
end $$;

-- Extends a claim we still hold; false when it was taken over (do not create anything then).
create or replace function voxctl_renew_agent_claim(p_org_id uuid, p_type text, p_claim_id uuid, p_ttl_seconds integer)
returns boolean
language plpgsql
set search_path = public, pg_temp
as $$
begin
  update agent_claims set expires_at = now() + make_interval(secs => p_ttl_seconds)
   where org_id = p_org_id and type = p_type and claim_id = p_claim_id;
  return found;
end $$;

-- Links the slot to the assistant the claim holder created and drops the claim, in one
-- transaction. {"status":"lost"} when the claim is no longer ours (nothing written).
create or replace function voxctl_complete_agent_claim(p_org_id uuid, p_type text, p_claim_id uuid, p_assistant_id text)
returns jsonb
language plpgsql
set search_path = public, pg_temp
as $$
declare v_holder uuid;
begin
  select claim_id into v_holder from agent_claims where org_id = p_org_id and type = p_type for update;
  if v_holder is distinct from p_claim_id then
    return jsonb_build_object('status', 'lost', 'claimId', v_holder);
  end if;
  insert into agents (org_id, type, vapi_assistant_id) values (p_org_id, p_type, p_assistant_id)
  on conflict (org_id, type) do update set vapi_assistant_id = excluded.vapi_assistant_id
  where agents.vapi_assistant_id is distinct from excluded.vapi_assistant_id;
  delete from agent_claims where org_id = p_org_id and type = p_type;
  return jsonb_build_object('status', 'linked', 'assistantId', p_assistant_id);
end $$;

-- Gives up a claim (the create failed); true when it was still ours.
create or replace function voxctl_release_agent_claim(p_org_id uuid, p_type text, p_claim_id uuid)
returns boolean
language plpgsql
set search_path = public, pg_temp
as $$
begin
  delete from agent_claims where org_id = p_org_id and type = p_type and claim_id = p_claim_id;
  return found;
end $$;

-- Version 4: orgs rename/remove and agents unlink.

-- Renames an org; the org row (jsonb), or null when there is none.
create or replace function voxctl_rename_org(p_org_id uuid, p_name text)
returns jsonb
language sql
set search_path = public, pg_temp
as $$
  update organizations set name = p_name where id = p_org_id returning to_jsonb(organizations.*);
$$;

-- Empties the slot (org, type) and answers what it held, with the org's name, in one transaction.
create or replace function voxctl_unlink_agent(p_org_id uuid, p_type text)
returns jsonb
language plpgsql
set search_path = public, pg_temp
as $$
declare
  v_org_name text;
  v_agent agents%rowtype;
begin
  select name into v_org_name from organizations where id = p_org_id;
  if not found then
    return jsonb_build_object('status', 'not_found');
  end if;
  delete from agents where org_id = p_org_id and type = p_type returning * into v_agent;
  if not found then
    return jsonb_build_object('status', 'empty');
  end if;
  return jsonb_build_object('status', 'unlinked', 'agent', to_jsonb(v_agent) || jsonb_build_object('organizations', jsonb_build_object('name', v_org_name)));
end $$;

-- Removes an org (its agents, contacts, appointments and claims go with it: on delete cascade),
-- atomically: with agents linked and not p_force, nothing is removed. The row lock makes a
-- concurrent link (its foreign key check locks the org row) wait until this commits.
create or replace function voxctl_remove_org(p_org_id uuid, p_force boolean)
returns jsonb
language plpgsql
set search_path = public, pg_temp
as $$
declare
  v_org organizations%rowtype;
  v_agents integer;
begin
  select * into v_org from organizations where id = p_org_id for update;
  if not found then
    return jsonb_build_object('status', 'not_found');
  end if;
  select count(*) into v_agents from agents where org_id = p_org_id;
  if v_agents > 0 and not p_force then
    return jsonb_build_object('status', 'has_agents', 'agents', v_agents);
  end if;
  delete from organizations where id = p_org_id;
  return jsonb_build_object('status', 'removed', 'agents', v_agents, 'org', to_jsonb(v_org));
end $$;

-- Version 5: the events of the receiver deployed as an Edge Function (`voxctl edge deploy`), one
-- row per answered webhook request, written after the answer was sent; `voxctl webhook logs
-- --remote` and `webhook replay --remote` read them. Secrets are masked before a row is written.
-- Nothing prunes them: `delete from voxctl_events where time < now() - interval '30 days';`
create table if not exists voxctl_events (
  id          uuid primary key,
  time        timestamptz not null,
  status      integer not null,
  org_id      uuid,
  event       jsonb not null,
  inserted_at timestamptz not null default now()
);
create index if not exists voxctl_events_time_idx on voxctl_events (time);
alter table voxctl_events enable row level security;

-- On Supabase, only the service role may call these functions.
do $$
begin
  if exists (select 1 from pg_roles where rolname = 'anon') then
    revoke execute on function voxctl_import_agents(jsonb) from public, anon, authenticated;
    revoke execute on function voxctl_book_slot(uuid, timestamptz, text, text, text) from public, anon, authenticated;
    revoke execute on function voxctl_cancel_appointment(uuid, text, timestamptz) from public, anon, authenticated;
    revoke execute on function voxctl_claim_agent_slot(uuid, text, uuid, text, integer, text, uuid) from public, anon, authenticated;
    revoke execute on function voxctl_renew_agent_claim(uuid, text, uuid, integer) from public, anon, authenticated;
    revoke execute on function voxctl_complete_agent_claim(uuid, text, uuid, text) from public, anon, authenticated;
    revoke execute on function voxctl_release_agent_claim(uuid, text, uuid) from public, anon, authenticated;
    revoke execute on function voxctl_remove_org(uuid, boolean) from public, anon, authenticated;
    revoke execute on function voxctl_rename_org(uuid, text) from public, anon, authenticated;
    revoke execute on function voxctl_unlink_agent(uuid, text) from public, anon, authenticated;
  end if;
end $$;

-- The service role (the key the CLI uses) gets explicit grants on voxctl's tables and on every
-- voxctl_* function, so the CLI works whatever the project's default privileges are.
do $$
declare
  f regprocedure;
begin
  if exists (select 1 from pg_roles where rolname = 'service_role') then
    grant select, insert, update, delete on organizations, agents, contacts, appointments, agent_claims, voxctl_schema, voxctl_events to service_role;
    for f in
      select p.oid::regprocedure from pg_proc p
       where p.pronamespace = 'public'::regnamespace and p.proname like 'voxctl\_%' and p.prorettype <> 'trigger'::regtype
    loop
      execute format('grant execute on function %s to service_role', f);
    end loop;
  end if;
end $$;

insert into voxctl_schema (version) values (5) on conflict (version) do nothing;
