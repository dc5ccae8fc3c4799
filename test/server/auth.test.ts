import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAccessPolicy, createToken, isLoopbackHost, tokensEqual } from '../../src-main/server/auth.js';
import { startServer } from '../../src-main/server/index.js';
import { callApi, connectEvents, createTestSite, FakeEngine, send, startTestServer, type Started } from './helpers.js';

let started: Started;

beforeEach(async () => {
  started = await startTestServer();
});
afterEach(async () => {
  await started.stop();
});

const apiPost = (headers: Record<string, string>) =>
  send(started.server.port, {
    method: 'POST',
    path: '/api/app:info',
    headers: { 'content-type': 'application/json', ...headers },
    body: '{}',
  });

describe('the start token', () => {
  it('is refused when missing: 401 on the page, the API, a static asset and the WebSocket', async () => {
    const port = started.server.port;
    for (const response of [
      await send(port, { path: '/' }),
      await apiPost({}),
      await send(port, { path: '/assets/app.js' }),
    ]) {
      expect(response.status).toBe(401);
      expect(JSON.parse(response.body)).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
      expect(response.body).not.toContain('console.log');
    }
    expect(await connectEvents(port)).toEqual({ refused: 401 });
    expect(started.engine.calls).toEqual([]);
  });

  it('is refused when wrong, whichever way it is presented', async () => {
    const port = started.server.port;
    const wrong = createToken();
    expect((await apiPost({ authorization: `Bearer ${wrong}` })).status).toBe(401);
    expect((await apiPost({ cookie: `drift_wb_token=${wrong}` })).status).toBe(401);
    expect((await send(port, { path: `/?token=${wrong}` })).status).toBe(401);
    expect((await send(port, { path: `/?token=${started.server.token}x` })).status).toBe(401);
    expect((await apiPost({ authorization: `Bearer ${started.server.token.slice(0, -1)}` })).status).toBe(401);
    expect(await connectEvents(port, { path: `/api/events?token=${wrong}` })).toEqual({ refused: 401 });
  });

  it('is accepted from the Authorization header, the cookie or the query', async () => {
    const { port, token } = started.server;
    const viaHeader = await apiPost({ authorization: `Bearer ${token}` });
    expect(viaHeader.status).toBe(200);
    expect(JSON.parse(viaHeader.body)).toMatchObject({ ok: true, value: { name: 'DRIFT Workbench' } });
    expect((await apiPost({ cookie: `other=1; drift_wb_token=${token}` })).status).toBe(200);
    const page = await send(port, { path: `/?token=${token}` });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>Test page</title>');
    expect((await send(port, { path: '/assets/app.js', headers: { cookie: `drift_wb_token=${token}` } })).status).toBe(
      200,
    );
    // Another localhost server's cookie of the same name does not hide ours.
    expect((await apiPost({ cookie: `drift_wb_token=${createToken()}; drift_wb_token=${token}` })).status).toBe(200);
  });

  it('sets the HttpOnly SameSite=Strict cookie when a GET carries a valid ?token=', async () => {
    const { port, token } = started.server;
    const page = await send(port, { path: `/?token=${token}` });
    expect(page.headers['set-cookie']).toEqual([`drift_wb_token=${token}; HttpOnly; SameSite=Strict; Path=/`]);
    const viaHeader = await send(port, { path: '/', headers: { authorization: `Bearer ${token}` } });
    expect(viaHeader.status).toBe(200);
    expect(viaHeader.headers['set-cookie']).toBeUndefined();
  });

  it('opens the WebSocket with the token in the query or the cookie', async () => {
    const { port, token } = started.server;
    for (const options of [
      { path: `/api/events?token=${token}` },
      { headers: { cookie: `drift_wb_token=${token}` } },
    ]) {
      const connection = await connectEvents(port, options);
      expect('socket' in connection).toBe(true);
      if ('socket' in connection) connection.socket.close();
    }
  });
});

describe('the Origin and Host checks', () => {
  it('refuses a foreign Origin with 403 forbidden_origin on the API and the WebSocket', async () => {
    const { port, token } = started.server;
    for (const origin of ['http://evil.example', `http://127.0.0.1:${port + 1}`, 'null', `https://127.0.0.1:${port}`]) {
      const response = await apiPost({ authorization: `Bearer ${token}`, origin });
      expect(response.status).toBe(403);
      expect(JSON.parse(response.body)).toMatchObject({ ok: false, error: { code: 'forbidden_origin' } });
      expect(await connectEvents(port, { path: `/api/events?token=${token}`, origin })).toEqual({ refused: 403 });
    }
    expect(started.engine.calls).toEqual([]);
  });

  it('accepts its own origin under 127.0.0.1 and localhost', async () => {
    const { port, token } = started.server;
    for (const origin of [`http://127.0.0.1:${port}`, `http://localhost:${port}`]) {
      expect((await apiPost({ authorization: `Bearer ${token}`, origin })).status).toBe(200);
      const connection = await connectEvents(port, { path: `/api/events?token=${token}`, origin });
      expect('socket' in connection).toBe(true);
      if ('socket' in connection) connection.socket.close();
    }
  });

  it('refuses a Host header that does not name this server (DNS rebinding) with 403', async () => {
    const { port, token } = started.server;
    for (const host of ['evil.example', `evil.example:${port}`, `127.0.0.1:${port + 1}`, '127.0.0.1', '']) {
      const response = await apiPost({ authorization: `Bearer ${token}`, host });
      expect(response.status, host).toBe(403);
      const page = await send(port, { path: `/?token=${token}`, headers: { host } });
      expect(page.status, host).toBe(403);
      expect(page.body).not.toContain('Test page');
    }
    for (const host of [`localhost:${port}`, `[::1]:${port}`, `LOCALHOST:${port}`]) {
      expect((await apiPost({ authorization: `Bearer ${token}`, host })).status, host).toBe(200);
    }
  });
});

describe('binding', () => {
  it('binds 127.0.0.1 by default and prints the tokenised URL', () => {
    const { server } = started;
    expect(server.host).toBe('127.0.0.1');
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${server.token}`);
    expect(server.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });

  it('refuses a non-loopback host unless asked explicitly, and warns when it binds one', async () => {
    const site = await createTestSite();
    try {
      const engine = new FakeEngine();
      await expect(startServer({ engine, staticDir: site.staticDir, host: '0.0.0.0' })).rejects.toMatchObject({
        code: 'server_listen_failed',
      });
      const warnings: string[] = [];
      const exposed = await startServer({
        engine,
        staticDir: site.staticDir,
        host: '0.0.0.0',
        allowNonLoopback: true,
        warn: (message) => warnings.push(message),
      });
      try {
        expect(exposed.host).toBe('0.0.0.0');
        expect(warnings.join('\n')).toMatch(/reachable from other machines/);
        // Still reachable over loopback, still behind the token.
        expect((await send(exposed.port, { path: '/' })).status).toBe(401);
        expect((await send(exposed.port, { path: `/?token=${exposed.token}` })).status).toBe(200);
      } finally {
        await exposed.close();
      }
    } finally {
      await site.remove();
    }
  });

  it('reports a busy port as server_listen_failed', async () => {
    const engine = new FakeEngine();
    await expect(
      startServer({ engine, staticDir: started.site.staticDir, port: started.server.port }),
    ).rejects.toMatchObject({ code: 'server_listen_failed', message: expect.stringMatching(/in use/) });
  });

  it('refuses a static folder without index.html as renderer_not_built', async () => {
    await expect(
      startServer({ engine: new FakeEngine(), staticDir: `${started.site.root}/missing` }),
    ).rejects.toMatchObject({ code: 'renderer_not_built' });
  });

  it('closes cleanly: the port stops answering and the engine has no listeners left', async () => {
    const { port, token } = started.server;
    const connection = await connectEvents(port, { path: `/api/events?token=${token}` });
    expect(started.engine.listenerCount()).toBeGreaterThan(0);
    await started.server.close();
    expect(started.engine.listenerCount()).toBe(0);
    if ('socket' in connection) {
      await new Promise<void>((resolve) =>
        connection.socket.readyState === connection.socket.CLOSED
          ? resolve()
          : connection.socket.once('close', () => resolve()),
      );
    }
    await expect(send(port, { path: '/' })).rejects.toThrow();
    const result = await callApi(started, 'app:info').catch((error: Error) => error);
    expect(result).toBeInstanceOf(Error);
  });
});

describe('auth helpers', () => {
  it('compares tokens of any length without throwing', () => {
    const token = createToken();
    expect(tokensEqual(token, token)).toBe(true);
    expect(tokensEqual(`${token}x`, token)).toBe(false);
    expect(tokensEqual('', token)).toBe(false);
    expect(createToken()).not.toBe(token);
  });

  it('knows loopback addresses', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) {
      expect(isLoopbackHost(host), host).toBe(true);
    }
    for (const host of ['0.0.0.0', '::', '192.168.1.2', 'example.com', '10.0.0.1']) {
      expect(isLoopbackHost(host), host).toBe(false);
    }
  });

  it('lets a port-80 server be named without the port, as browsers send it', () => {
    const policy = createAccessPolicy('t', '127.0.0.1', 80);
    expect(policy.hosts.has('127.0.0.1')).toBe(true);
    expect(policy.origins.has('http://localhost')).toBe(true);
  });
});
