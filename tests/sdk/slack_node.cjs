// Drives `avatar serve` with the official Node SDK, @slack/web-api, unchanged but for
// its slackApiUrl. Prints one JSON object: per step, what the SDK returned or threw.
// The Rust test (tests/server/sdk.rs) judges it.
//
// usage: node slack_node.cjs BASE_URL TOKEN basic|retry|profile PHOTO OUT_DIR
// (NODE_PATH must hold the node_modules that tests/sdk/install.sh printed; basic
// saves the first avatar's image_512 to OUT_DIR/first_512.jpg). The SDK logs to
// stdout too: the result is the last line.

const fs = require('node:fs');
const path = require('node:path');
const { WebClient } = require('@slack/web-api');

async function main() {
  const [base, token, mode, photo, outDir] = process.argv.slice(2);
  const client = new WebClient(token, {
    slackApiUrl: `${base}/api/`,
    // Bounded: a few quick retries of failed requests (429s are retried after
    // their Retry-After, counted here too).
    retryConfig: { retries: 20, factor: 1, minTimeout: 100, maxTimeout: 1000 },
  });
  let rateLimited = 0;
  client.on('rate_limited', () => {
    rateLimited += 1;
  });
  const out = {};
  const step = async (name, call) => {
    try {
      out[name] = { ok: true, data: await call() };
    } catch (e) {
      out[name] = e.data && e.data.error
        ? { ok: false, error: e.data.error, code: e.code }
        : { ok: false, exception: `${e.code || e.name}: ${e.message}` };
    }
  };
  const data = fs.readFileSync(photo);
  if (mode === 'basic') {
    // 8.2.0 declares `Buffer | Stream` but serialises a stream as JSON text, so no
    // image part is sent (it would fail against Slack too): the server's answer for
    // a call without an image, invalid_arguments, is what the SDK must surface.
    await step('set_from_stream', () => client.users.setPhoto({ image: fs.createReadStream(photo) }));
    await step('set_from_buffer', () => client.users.setPhoto({ image: data }));
    await step('get_after_buffer', () => client.users.profile.get());
    if (out.get_after_buffer.ok) {
      const served = await fetch(out.get_after_buffer.data.profile.image_512);
      fs.writeFileSync(path.join(outDir, 'first_512.jpg'), Buffer.from(await served.arrayBuffer()));
    }
    await step('set_from_buffer_cropped', () =>
      client.users.setPhoto({ image: data, crop_x: 100, crop_y: 50, crop_w: 512 }));
    await step('get_after_cropped', () => client.users.profile.get());
    await step('delete', () => client.users.deletePhoto());
    await step('get_after_delete', () => client.users.profile.get());
    const oversized = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), Buffer.alloc(17 << 20)]);
    await step('set_oversized', () => client.users.setPhoto({ image: oversized }));
    await step('unknown_method', () => client.apiCall('users.info'));
  } else if (mode === 'profile') {
    await step('set_profile', () => client.users.profile.set({
      profile: {
        first_name: 'Ada',
        last_name: 'Lovelace',
        title: 'Analyst',
        status_text: 'computing',
        status_emoji: ':abacus:',
        status_expiration: 0,
      },
    }));
    await step('set_name_value', () => client.users.profile.set({ name: 'pronouns', value: 'she/her' }));
    await step('get_after_set', () => client.users.profile.get());
    await step('set_bad_emoji', () => client.users.profile.set({ name: 'status_emoji', value: 'abacus' }));
    await step('set_other_user', () => client.users.profile.set({ user: 'U2', name: 'title', value: 'x' }));
  } else if (mode === 'retry') {
    await step('set_after_429', () => client.users.setPhoto({ image: data }));
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
  out.rate_limited_events = rateLimited;
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((e) => {
  process.stderr.write(`${e.stack}\n`);
  process.exit(1);
});
