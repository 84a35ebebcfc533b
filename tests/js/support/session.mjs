// Looks at a session from the outside, with plain HTTP requests that carry its sid.

import { setTimeout as delay } from 'node:timers/promises';

/**
 * Resolves once the server no longer knows `sid`: a polling POST with that sid gets
 * 400 `{"code":1,"message":"Session ID unknown"}`. While the session lives the same POST gets
 * 200 `ok` (polling) or 400 code 3 (the session is on websocket), so the answer tells the two
 * apart. The server's state changes on its own schedule, so this re-asks (every `interval` ms)
 * until the deadline; it never assumes a time.
 */
export async function waitForSessionGone(baseUrl, sid, { timeout = 3_000, interval = 10 } = {}) {
  const url = `${baseUrl}/engine.io/?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`;
  const deadline = Date.now() + timeout;
  let last = 'no answer yet';
  for (let attempt = 0; attempt < 1_000; attempt++) {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'text/plain;charset=UTF-8' },
      body: '4session-probe',
      signal: AbortSignal.timeout(Math.max(1, deadline - Date.now())),
    }).catch((err) => ({ failed: err }));
    if (response.failed) {
      last = `request failed: ${response.failed.message}`;
    } else {
      const body = await response.text();
      last = `${response.status} ${body}`;
      if (response.status === 400 && parseCode(body) === 1) return;
    }
    if (Date.now() >= deadline) break;
    await delay(interval);
  }
  throw new Error(`session ${sid} still known to the server after ${timeout} ms (last answer: ${last})`);
}

function parseCode(body) {
  try {
    return JSON.parse(body).code;
  } catch {
    return undefined;
  }
}
