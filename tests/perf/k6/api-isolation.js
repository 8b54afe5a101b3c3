// k6 load + isolation test of the ShipSpeak Data API (PostgREST-compatible: `shipspeak-db serve`, a local
// `supabase start`, or a hosted Supabase project). Every VU iteration, as one of several real users:
//   1. lists its meetings (keyset page of 20)       -> 200, at least one row, every row owned by the user;
//   2. asks for another user's meeting by id        -> 200 and [] (RLS hides it, no error that leaks it);
//   3. reads profiles without a filter              -> exactly its own profile.
// Any cross-user row fails a check, and `checks: ['rate==1']` fails the run (exit 99, as k6 does).
//
// Environment (k6 -e or the process environment):
//   SUPABASE_URL       project URL, e.g. http://127.0.0.1:54321 (the script appends /rest/v1)
//   SUPABASE_ANON_KEY  the project's anon key (sent as apikey, as supabase-js does)
//   K6_USERS           JSON array, at least two users, each an access token string or {"email","password"}
//                      (signed in through Supabase Auth's password grant in setup())
//   VUS (4), DURATION ("10s"), P99_MS (100): load shape and the latency threshold
//
//   k6 run -e SUPABASE_URL=… -e SUPABASE_ANON_KEY=… -e K6_USERS='["eyJ…","eyJ…"]' tests/perf/k6/api-isolation.js
//   npm run k6      (here: starts `shipspeak-db serve --seed`, runs this file with real k6 or the subset runner)
import http from 'k6/http';
import { check, fail } from 'k6';

const P99_MS = Number(__ENV.P99_MS || 100);

export const options = {
  scenarios: {
    isolation: {
      executor: 'constant-vus',
      vus: Number(__ENV.VUS || 4),
      duration: __ENV.DURATION || '10s',
    },
  },
  thresholds: {
    http_req_duration: [`p(99)<${P99_MS}`],
    http_req_failed: ['rate==0'],
    checks: ['rate==1'],
  },
};

/** @param {string} name */
function required(name) {
  const v = __ENV[name];
  if (!v) fail(`${name} is not set (see the header of tests/perf/k6/api-isolation.js)`);
  return v;
}

const BASE = required('SUPABASE_URL').replace(/\/$/, '');
const ANON = required('SUPABASE_ANON_KEY');

/** @param {string} token */
function headers(token) {
  return { headers: { apikey: ANON, Authorization: `Bearer ${token}`, Accept: 'application/json' } };
}

/** @param {{ email: string, password: string }} user */
function signIn(user) {
  const res = http.post(`${BASE}/auth/v1/token?grant_type=password`, JSON.stringify(user), {
    headers: { apikey: ANON, 'Content-Type': 'application/json' },
  });
  if (res.status !== 200) fail(`sign-in of ${user.email} failed: HTTP ${res.status} ${res.body}`);
  return /** @type {{ access_token: string }} */ (res.json()).access_token;
}

/**
 * Resolves every user to { token, id, meetingId }: the id through RLS (profiles shows only one's own row)
 * and one meeting of theirs for the cross-user probe.
 */
export function setup() {
  /** @type {unknown} */
  let list;
  try {
    list = JSON.parse(required('K6_USERS'));
  } catch (e) {
    fail(`K6_USERS is not JSON: ${e}`);
  }
  if (!Array.isArray(list) || list.length < 2) fail('K6_USERS must be a JSON array of at least two users');
  const users = /** @type {unknown[]} */ (list).map((u, i) => {
    const token =
      typeof u === 'string'
        ? u
        : u && typeof u === 'object' && 'email' in u && 'password' in u
          ? signIn(/** @type {{ email: string, password: string }} */ (u))
          : fail(`K6_USERS[${i}] is neither a token nor {email, password}`);
    const profiles = http.get(`${BASE}/rest/v1/profiles?select=id`, headers(token));
    const rows = profiles.status === 200 ? /** @type {{ id: string }[]} */ (profiles.json()) : [];
    if (rows.length !== 1)
      fail(
        `K6_USERS[${i}]: profiles returned HTTP ${profiles.status} with ${rows.length} rows; expected the user's own profile only`,
      );
    const meetings = http.get(`${BASE}/rest/v1/meetings?select=id&limit=1`, headers(token));
    const own = meetings.status === 200 ? /** @type {{ id: string }[]} */ (meetings.json()) : [];
    if (own.length !== 1) fail(`K6_USERS[${i}] (${rows[0].id}) has no meeting to probe with; seed one first`);
    return { token, id: rows[0].id, meetingId: own[0].id };
  });
  if (new Set(users.map((u) => u.id)).size !== users.length) fail('K6_USERS names the same user twice');
  return { users };
}

/** @param {{ users: { token: string, id: string, meetingId: string }[] }} data */
export default function (data) {
  const n = data.users.length;
  const me = data.users[(__VU + __ITER) % n];
  const other = data.users[(__VU + __ITER + 1) % n];
  const h = headers(me.token);

  const list = http.get(
    `${BASE}/rest/v1/meetings?select=id,user_id,title,started_at&order=started_at.desc.nullslast,id&limit=20`,
    { ...h, tags: { name: 'meeting list' } },
  );
  check(list, {
    'meeting list: 200': (r) => r.status === 200,
    'meeting list: has rows': (r) => r.status === 200 && /** @type {unknown[]} */ (r.json()).length > 0,
    'meeting list: only own rows': (r) =>
      r.status === 200 && /** @type {{ user_id: string }[]} */ (r.json()).every((m) => m.user_id === me.id),
  });

  const probe = http.get(`${BASE}/rest/v1/meetings?select=id,user_id&id=eq.${other.meetingId}`, {
    ...h,
    tags: { name: 'other user meeting' },
  });
  check(probe, {
    "other user's meeting: 200": (r) => r.status === 200,
    "other user's meeting: hidden": (r) => r.status === 200 && /** @type {unknown[]} */ (r.json()).length === 0,
  });

  const profile = http.get(`${BASE}/rest/v1/profiles?select=id,tier`, { ...h, tags: { name: 'profiles' } });
  check(profile, {
    'profiles: 200': (r) => r.status === 200,
    'profiles: only own': (r) => {
      const rows = r.status === 200 ? /** @type {{ id: string }[]} */ (r.json()) : [];
      return rows.length === 1 && rows[0].id === me.id;
    },
  });
}
