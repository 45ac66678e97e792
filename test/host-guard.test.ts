import assert from 'node:assert/strict';
import { createServer as createHttpsServer, request as httpsRequest, Server as HttpsServer } from 'node:https';
import { createServer as createNetServer, AddressInfo, Server as NetServer, Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Agent, Dispatcher, request } from 'undici';
import { guardedDispatcher, hostGuardInterceptor } from '../support/dolibarr/guarded-dispatcher';
import { selfSignedCertificate } from './helpers/certificate';
import {
  HostGuardRefusal,
  RefusalReason,
  checkDispatchTarget,
  checkTarget,
  sandboxPolicy,
} from '../support/dolibarr/host-guard';
import { instanceNames } from '../support/naming';
import { NetworkLog } from '../support/process/connections';

const SANDBOX = instanceNames('erp', 'sandbox', 'arcodange.lab').host;
const PROD = instanceNames('erp', 'prod', 'arcodange.lab').host;
const S = `https://${SANDBOX}`;
const policy = sandboxPolicy(SANDBOX);

type Verdict = 'allowed' | RefusalReason;
/** [input, expected verdict, the hostname WHATWG parses it to (when it is worth asserting)] */
type Case = readonly [input: string, verdict: Verdict, parsedHost?: string];

const TABLE: Record<string, readonly Case[]> = {
  'allowed spellings': [
    [S, 'allowed'],
    [`${S}/`, 'allowed'],
    [`${S}/api/index.php/supplierinvoices?limit=1`, 'allowed'],
    [`${S}:443/api/index.php`, 'allowed'],
    [`${S}/@${PROD}`, 'allowed', SANDBOX], // "@" in the path is just a path
    [`${S}?@${PROD}`, 'allowed', SANDBOX],
    [`${S}#@${PROD}`, 'allowed', SANDBOX],
    [`${S}//${PROD}/x`, 'allowed', SANDBOX],
    [`${S}/%2e%2e/%2e%2e/etc`, 'allowed'],
    [`${S}/a:b@c`, 'allowed', SANDBOX],
    [`${S}/${PROD}`, 'allowed'],
  ],
  'the prod host': [
    [`https://${PROD}`, 'host'],
    [`https://${PROD}/`, 'host'],
    [`https://${PROD}/api/index.php/invoices`, 'host'],
    [`https://${PROD}:443/`, 'host'],
    [`https://${PROD}./`, 'host'],
    [`https://ERP.ARCODANGE.LAB/`, 'host'],
    [`https://${PROD}:444/`, 'host'],
    [`http://${PROD}/`, 'scheme'],
    [`https://erp-prod.arcodange.lab/`, 'host'],
  ],
  'suffix and prefix look-alikes': [
    [`https://${SANDBOX}.evil.com/`, 'host'],
    [`https://${SANDBOX}.evil.com./`, 'host'],
    [`https://x${SANDBOX}/`, 'host'],
    [`https://${SANDBOX}s/`, 'host'],
    ['https://erp-sandbox-arcodange.lab/', 'host'],
    ['https://sandbox.arcodange.lab/', 'host'],
    ['https://erp-sandbox.arcodange/', 'host'],
    ['https://erp-sandbox.arcodange.la/', 'host'],
    ['https://erp-sandboxarcodange.lab/', 'host'],
    ['https://erp-sandbox.evil.lab/', 'host'],
    [`https://evil.${SANDBOX}/`, 'host'],
    [`https://www.${SANDBOX}/`, 'host'],
    ['https://erp-sandbox/', 'host'],
    [`https://${SANDBOX}-evil.com/`, 'host'],
    [`https://${SANDBOX}.${SANDBOX}/`, 'host'],
    ['https://erp--sandbox.arcodange.lab/', 'host'],
    ['https://erp_sandbox.arcodange.lab/', 'host'],
    ['https://erp-sandbox..arcodange.lab/', 'host'],
    [`https://.${SANDBOX}/`, 'host'],
    ['https://erp-sandbox.arcodange.lab-/', 'host'],
    ['https://erp-sandbox1.arcodange.lab/', 'host'],
    ['https://erp-sandbox.arcodange.lab0/', 'host'],
  ],
  'userinfo tricks': [
    [`${S}@${PROD}/`, 'userinfo'],
    [`https://user:pw@${SANDBOX}/`, 'userinfo'],
    [`https://user@${SANDBOX}/`, 'userinfo'],
    [`https://:pw@${SANDBOX}/`, 'userinfo'],
    [`https://@${SANDBOX}/`, 'userinfo', SANDBOX], // WHATWG drops the empty userinfo; we refuse the "@"
    [`https://:@${SANDBOX}/`, 'userinfo', SANDBOX],
    [`https://${SANDBOX}%40${PROD}/`, 'malformed'], // decoded "@" is a forbidden host code point: WHATWG throws
    [`https://${SANDBOX}%2F@${PROD}/`, 'userinfo', PROD],
    [`https://${SANDBOX}:443@${PROD}/`, 'userinfo', PROD],
    [`https://${PROD}@${SANDBOX}/`, 'userinfo', SANDBOX],
    [`https://a@b@${SANDBOX}/`, 'userinfo'],
    [`https://${SANDBOX}@${SANDBOX}/`, 'userinfo'],
    [`https://user%40x@${SANDBOX}/`, 'userinfo'],
    [`https://${SANDBOX}%2540${PROD}/`, 'malformed'],
  ],
  backslashes: [
    [`https:\\\\${PROD}`, 'malformed', PROD],
    [`https:\\\\${SANDBOX}`, 'malformed', SANDBOX],
    [`https://${SANDBOX}\\@${PROD}`, 'malformed', SANDBOX], // WHATWG: sandbox, path "/@prod"; legacy parsers: prod
    [`https://${SANDBOX}\\.evil.com/`, 'malformed'],
    [`https:/\\${PROD}/`, 'malformed', PROD],
    [`https:\\/${SANDBOX}/`, 'malformed'],
    [`${S}/a\\b`, 'malformed'],
    [`https://${PROD}\\@${SANDBOX}/`, 'malformed', PROD],
  ],
  'percent-encoding (WHATWG decodes hosts; only the literal spelling is accepted)': [
    ['https://erp%2Dsandbox.arcodange.lab/', 'host', SANDBOX],
    ['https://%65rp-sandbox.arcodange.lab/', 'host', SANDBOX],
    ['https://erp-sandbox%2earcodange%2elab/', 'host', SANDBOX],
    ['https://erp-sandbox%2Earcodange.lab/', 'host', SANDBOX],
    ['https://%45RP-SANDBOX.arcodange.lab/', 'host', SANDBOX],
    [`https://${SANDBOX}%2E/`, 'host', `${SANDBOX}.`],
    [`https://${SANDBOX}%2Eevil.com/`, 'host', `${SANDBOX}.evil.com`],
    ['https://erp%2Earcodange.lab/', 'host', PROD],
    [`https://${SANDBOX}%00/`, 'malformed'],
    [`https://${SANDBOX}%0d%0a/`, 'malformed'],
    [`https://${SANDBOX}%20/`, 'malformed'],
    [`https://${SANDBOX}%2F${PROD}/`, 'malformed'],
    [`https://${SANDBOX}%3A444/`, 'malformed'],
    ['https://%31%32%37.0.0.1/', 'ip literal', '127.0.0.1'],
  ],
  'Unicode look-alikes': [
    ['https://\u0435rp-sandbox.arcodange.lab/', 'host', 'xn--rp-sandbox-jsi.arcodange.lab'], // Cyrillic е
    ['https://erp-s\u0430ndbox.arcodange.lab/', 'host'], // Cyrillic а
    ['https://erp-sandbox\uff0earcodange\uff0elab/', 'host', SANDBOX], // full-width dots, IDNA-mapped to "."
    ['https://erp-sandbox\u3002arcodange\u3002lab/', 'host', SANDBOX], // ideographic full stop
    ['https://erp-sandbox\uff61arcodange.lab/', 'host', SANDBOX], // half-width ideographic full stop
    ['https://\uff45\uff52\uff50-sandbox.arcodange.lab/', 'host', SANDBOX], // full-width "erp"
    ['https://\uff25\uff32\uff30-sandbox.arcodange.lab/', 'host', SANDBOX], // full-width "ERP"
    ['https://erp\u200d-sandbox.arcodange.lab/', 'malformed'], // zero-width joiner: WHATWG throws
    ['https://erp\u200c-sandbox.arcodange.lab/', 'malformed'], // zero-width non-joiner
    ['https://erp\u200b-sandbox.arcodange.lab/', 'host', SANDBOX], // zero-width space: mapped away
    ['https://erp\u00ad-sandbox.arcodange.lab/', 'host', SANDBOX], // soft hyphen: mapped away
    ['https://erp\u2010sandbox.arcodange.lab/', 'host'], // Unicode hyphen
    ['https://erp-sandbox.arcodange.lab\u212a/', 'host'], // KELVIN SIGN lowercases to "k"
    ['https://xn--rp-sandbox-jsi.arcodange.lab/', 'host'], // punycode of the Cyrillic spelling
    ['https://xn--erp-sandbox-.arcodange.lab/', 'host'],
    ['https://erp-sandbox.xn--arcodange-.lab/', 'host'],
    ['https://\u0435rp.arcodange.lab/', 'host'],
    ['https://erp-sandbox.arcodange.lab\u3002/', 'host', `${SANDBOX}.`], // trailing ideographic dot
  ],
  'IP literals': [
    ['https://127.0.0.1/', 'ip literal'],
    ['https://127.0.0.1:443/', 'ip literal'],
    ['https://127.0.0.1./', 'ip literal', '127.0.0.1'],
    ['https://2130706433/', 'ip literal', '127.0.0.1'],
    ['https://0x7f.1/', 'ip literal', '127.0.0.1'],
    ['https://0177.0.0.1/', 'ip literal', '127.0.0.1'],
    ['https://127.1/', 'ip literal', '127.0.0.1'],
    ['https://0x7f000001/', 'ip literal', '127.0.0.1'],
    ['https://0X7F.0.0.1/', 'ip literal', '127.0.0.1'],
    ['https://017700000001/', 'ip literal', '127.0.0.1'],
    ['https://10.0.0.1/', 'ip literal'],
    ['https://0/', 'ip literal', '0.0.0.0'],
    ['https://[::1]/', 'ip literal'],
    ['https://[::ffff:127.0.0.1]/', 'ip literal'],
    ['https://[0:0:0:0:0:0:0:1]:443/', 'ip literal'],
    ['https://[fe80::1%25eth0]/', 'ip literal'],
    ['https://[::1]@erp-sandbox.arcodange.lab/', 'userinfo'],
    ['https://0x7f.0x0.0x0.0x1/', 'ip literal', '127.0.0.1'],
    ['https://256.256.256.256/', 'malformed'],
    ['https://1.2.3.4.5/', 'malformed'],
  ],
  ports: [
    [`${S}:443/`, 'allowed'],
    [`${S}:444/`, 'port'],
    [`${S}:80/`, 'port'],
    [`${S}:0/`, 'port'],
    [`${S}:8443/`, 'port'],
    [`${S}:65535/`, 'port'],
    [`${S}:65536/`, 'port'],
    [`${S}:99999999999/`, 'port'],
    [`${S}:-1/`, 'malformed'],
    [`${S}:443:444/`, 'malformed'],
    [`${S}:0x1bb/`, 'malformed'],
    [`${S}.:444/`, 'port'],
  ],
  'port spellings WHATWG reads as 443 (only ":443" or no port is accepted)': [
    [`${S}:0443/`, 'port', SANDBOX],
    [`${S}:00443/`, 'port', SANDBOX],
    [`${S}:0000000000443/`, 'port', SANDBOX],
    [`${S}:/`, 'port', SANDBOX], // no digits: the default port
    [`${S}:`, 'port', SANDBOX],
    [`${S}:?x=1`, 'port', SANDBOX],
    [`${S}:#x`, 'port', SANDBOX],
    [`${S}.:0443/`, 'port', `${SANDBOX}.`],
    [`${S}.:/`, 'port', `${SANDBOX}.`],
    [`https://${SANDBOX.toUpperCase()}:0443/`, 'port', SANDBOX],
    [`HTTPS://${SANDBOX}:/api`, 'port', SANDBOX],
    [`https://${PROD}:0443/`, 'host', PROD], // the host decides first
    [`https://${PROD}:/`, 'host', PROD],
    [`${S}:+443/`, 'malformed'],
    [`${S}:443./`, 'malformed'],
    [`${S}:\uff14\uff14\uff13/`, 'malformed'], // full-width digits
  ],
  schemes: [
    [`http://${SANDBOX}/`, 'scheme'],
    [`ws://${SANDBOX}/`, 'scheme'],
    [`wss://${SANDBOX}/`, 'scheme'],
    [`ftp://${SANDBOX}/`, 'scheme'],
    [`file://${SANDBOX}/etc/passwd`, 'scheme'],
    ['file:///etc/passwd', 'scheme'],
    ['javascript:alert(1)', 'scheme'],
    [`data:text/html,${S}`, 'scheme'],
    [SANDBOX, 'scheme'],
    [`${SANDBOX}/api`, 'scheme'],
    [`${SANDBOX}:443`, 'scheme'], // parses as scheme "erp-sandbox.arcodange.lab:"
    [`//${SANDBOX}/`, 'scheme'],
    [`httpss://${SANDBOX}/`, 'scheme'],
    [`https+unix://${SANDBOX}/`, 'scheme'],
    [`blob:${S}/x`, 'scheme'],
    [`https:${SANDBOX}/`, 'malformed', SANDBOX], // WHATWG tolerates missing slashes for special schemes
    [`https:/${SANDBOX}/`, 'malformed', SANDBOX],
    [`https:///${SANDBOX}/`, 'malformed', SANDBOX],
  ],
  'control characters and whitespace': [
    [`https://erp-sand\nbox.arcodange.lab/`, 'malformed', SANDBOX], // WHATWG strips tab/LF/CR anywhere
    [`https://erp-sand\rbox.arcodange.lab/`, 'malformed', SANDBOX],
    [`https://erp-sand\tbox.arcodange.lab/`, 'malformed', SANDBOX],
    [`https://erp-sand\0box.arcodange.lab/`, 'malformed'],
    [`https://erp-sand box.arcodange.lab/`, 'malformed'],
    [` ${S}/`, 'malformed', SANDBOX], // leading/trailing C0 and space are stripped by WHATWG
    [`${S}/ `, 'malformed'],
    [`\t${S}/`, 'malformed'],
    [`${S}\n`, 'malformed'],
    [`${S}\r\nHost: ${PROD}`, 'malformed'],
    [`${S}/x\r\nHost: ${PROD}`, 'malformed'],
    [`${S}\0.evil.com/`, 'malformed'],
    [`${S}\0@${PROD}/`, 'malformed'],
    [`h\nttps://${SANDBOX}/`, 'malformed'],
    [`https:\n//${SANDBOX}/`, 'malformed'],
    [`https://${SANDBOX}:4\n43/`, 'malformed'],
    [`https://${SANDBOX}\u000b/`, 'malformed'],
    [`https://${SANDBOX}\u000c/`, 'malformed'],
    [`https://${SANDBOX}\u001f/`, 'malformed'],
    [`https://${SANDBOX}\u007f/`, 'malformed'],
    [`\0${S}`, 'malformed'],
    [`https://${SANDBOX}\u00a0/`, 'malformed'], // no-break space: WHATWG throws
  ],
  'trailing dots': [
    [`https://${SANDBOX}./`, 'allowed'],
    [`https://${SANDBOX}.`, 'allowed'],
    [`https://${SANDBOX}.:443/x`, 'allowed'],
    [`https://${SANDBOX.toUpperCase()}./`, 'allowed'],
    [`https://${SANDBOX}../`, 'host', `${SANDBOX}..`],
    [`https://${SANDBOX}.../`, 'host'],
    [`https://${SANDBOX}..:443/`, 'host'],
  ],
  uppercase: [
    [`https://${SANDBOX.toUpperCase()}/`, 'allowed'],
    ['https://Erp-Sandbox.Arcodange.Lab/x', 'allowed'],
    [`HTTPS://${SANDBOX}/`, 'allowed'],
    [`HtTpS://eRp-SaNdBoX.aRcOdAnGe.LaB:443/`, 'allowed'],
    [`HTTP://${SANDBOX.toUpperCase()}/`, 'scheme'],
  ],
  'empty and relative': [
    ['', 'malformed'],
    ['/', 'scheme'],
    ['/api/index.php/invoices', 'scheme'],
    ['api/index.php', 'scheme'],
    ['./x', 'scheme'],
    ['?x=1', 'scheme'],
    ['#frag', 'scheme'],
    ['https://', 'malformed'],
    ['https:', 'malformed'],
    ['https:///', 'malformed'],
  ],
};

function verdictOf(input: string | URL, p = policy): Verdict {
  try {
    checkTarget(p, input);
    return 'allowed';
  } catch (error) {
    assert.ok(error instanceof HostGuardRefusal, `not a HostGuardRefusal: ${String(error)}`);
    return error.reason;
  }
}

describe('checkTarget: adversarial table', () => {
  const total = Object.values(TABLE).reduce((n, cases) => n + cases.length, 0);
  it(`has at least 150 cases (has ${total})`, () => {
    assert.ok(total >= 150);
  });

  for (const [cls, cases] of Object.entries(TABLE)) {
    describe(`${cls} (${cases.length})`, () => {
      for (const [input, expected, parsedHost] of cases) {
        it(`${JSON.stringify(input)} → ${expected}`, () => {
          assert.equal(verdictOf(input), expected);
          if (parsedHost !== undefined) {
            assert.equal(new URL(input).hostname, parsedHost, 'what WHATWG parses the host to');
          }
          if (expected === 'allowed') {
            const url = checkTarget(policy, input);
            assert.equal(url.hostname.replace(/\.$/, ''), SANDBOX);
            assert.equal(url.protocol, 'https:');
            assert.equal(url.username + url.password, '');
            assert.equal(verdictOf(url), 'allowed', 'the returned URL passes again');
          }
        });
      }
    });
  }
});

describe('HostGuardRefusal', () => {
  it('names the refused host, the reason, and what is allowed', () => {
    assert.throws(() => checkTarget(policy, `https://${PROD}/api`), HostGuardRefusal);
    try {
      checkTarget(policy, `https://${PROD}/api`);
    } catch (e) {
      assert.ok(e instanceof HostGuardRefusal);
      assert.equal(e.reason, 'host');
      assert.equal(e.refusedHost, PROD);
      assert.equal(e.name, 'HostGuardRefusal');
      assert.match(e.message, new RegExp(`"${PROD.replace(/\./g, '\\.')}"`));
      assert.match(e.message, /erp-sandbox\.arcodange\.lab/);
    }
  });

  it('names the host behind a userinfo trick, without its port', () => {
    for (const target of [`${S}@${PROD}/`, `${S}@${PROD}:8443/`, `//${PROD}:8443/`, `https://${S.slice(8)}@[::1]:8443/`]) {
      try {
        checkTarget(policy, target);
        assert.fail('allowed');
      } catch (e) {
        assert.ok(e instanceof HostGuardRefusal);
        assert.equal(e.refusedHost, target.includes('[::1]') ? '[::1]' : PROD, target);
      }
    }
  });

  it('renders control characters harmlessly in the message', () => {
    try {
      checkTarget(policy, `${S}\r\nX: y`);
      assert.fail('allowed');
    } catch (e) {
      assert.ok(e instanceof HostGuardRefusal);
      assert.ok(!/[\r\n]/.test(e.message));
    }
  });
});

describe('sandboxPolicy', () => {
  it('takes the host of the naming rule and defaults to port 443', () => {
    assert.deepEqual({ ...sandboxPolicy(SANDBOX) }, { host: 'erp-sandbox.arcodange.lab', port: 443 });
  });
  for (const bad of ['', 'ERP-SANDBOX.arcodange.lab', '*.arcodange.lab', 'erp-sandbox.*', 'erp-sandbox', 'erp-sandbox.arcodange.lab.',
    'https://erp-sandbox.arcodange.lab', 'erp-sandbox.arcodange.lab:443', '127.0.0.1', 'a.0x7f', 'еrp-sandbox.arcodange.lab', 'erp sandbox.lab', '-erp.lab']) {
    it(`refuses host ${JSON.stringify(bad)}`, () => assert.throws(() => sandboxPolicy(bad), TypeError));
  }
  for (const bad of [0, -1, 65536, 1.5, Number.NaN]) {
    it(`refuses port ${bad}`, () => assert.throws(() => sandboxPolicy(SANDBOX, bad), TypeError));
  }
  it('allows 443 and the configured port, nothing else', () => {
    const p = sandboxPolicy(SANDBOX, 8443);
    assert.equal(verdictOf(`${S}:8443/`, p), 'allowed');
    assert.equal(verdictOf(`${S}/`, p), 'allowed');
    assert.equal(verdictOf(`${S}:443/`, p), 'allowed');
    assert.equal(verdictOf(`${S}:8444/`, p), 'port');
    assert.equal(verdictOf(`https://${PROD}:8443/`, p), 'host');
  });
});

describe('the port is spelled literally, like the host', () => {
  const configured = sandboxPolicy(SANDBOX, 8443);

  /** The refusal `input` gets under `p`, which must be a port refusal of the sandbox host. */
  function portRefusal(input: string, p: typeof policy): HostGuardRefusal {
    try {
      checkTarget(p, input);
    } catch (e) {
      assert.ok(e instanceof HostGuardRefusal, String(e));
      assert.equal(e.reason, 'port', e.message);
      assert.equal(e.refusedHost, SANDBOX);
      return e;
    }
    return assert.fail(`${input} allowed`);
  }

  for (const [spelling, parsed] of [['0443', ''], ['00443', ''], ['', ''], ['08443', '8443'], ['008443', '8443'], ['0000008443', '8443']] as const) {
    it(`refuses ":${spelling}", which WHATWG reads as an allowed port, naming the spelling and what to write`, () => {
      const input = `${S}:${spelling}/api/index.php/status`;
      assert.equal(new URL(input).port, parsed, 'WHATWG reads it as an allowed port: only the spelling is refused');
      const e = portRefusal(input, configured);
      assert.ok(e.message.includes(`port is spelled ":${spelling}"`), e.message);
      assert.ok(e.message.includes(parsed === '' ? 'the default port 443' : `port ${parsed}`), e.message);
      assert.ok(e.message.includes('write ":443" or ":8443", or no port'), e.message);
    });
  }

  it('with the default policy, names ":443" alone as the spelling to write', () => {
    assert.ok(portRefusal(`${S}:0443/`, policy).message.includes('write ":443", or no port'));
  });

  it('allows no port, ":443" and the configured port in decimal, with or without the trailing dot', () => {
    for (const input of [`${S}/`, `${S}:443/`, `${S}:8443/`, `${S}.:8443/`, `${S}.:443/x`, `${S}.`]) {
      assert.equal(verdictOf(input, configured), 'allowed', input);
    }
    assert.equal(checkTarget(configured, `${S}:443/x`).href, `${S}/x`);
    assert.equal(checkTarget(configured, `${S}:8443/x`).href, `${S}:8443/x`);
  });

  it('the URL it returns passes again: its port is serialized in the accepted spelling', () => {
    for (const input of [`${S}:443/`, `${S}:8443/`]) {
      assert.equal(verdictOf(checkTarget(configured, input).href, configured), 'allowed', input);
    }
  });

  it('checkDispatchTarget holds a dispatch origin to the same spelling', () => {
    for (const origin of [`${S}:0443`, `${S}:`, `${S}:08443`]) {
      assert.throws(
        () => checkDispatchTarget(configured, origin, '/api'),
        (e: unknown) => e instanceof HostGuardRefusal && e.reason === 'port' && e.message.includes('port is spelled'),
        origin,
      );
    }
    assert.equal(checkDispatchTarget(configured, `${S}:8443`, '/api').href, `${S}:8443/api`);
    assert.equal(checkDispatchTarget(configured, `${S}:443`, '/api').href, `${S}/api`);
  });
});

describe('checkDispatchTarget: the origin undici connects to decides, not the path', () => {
  it('a path cannot change the host', () => {
    assert.equal(checkDispatchTarget(policy, S, `//${PROD}/x`).hostname, SANDBOX);
    assert.equal(checkDispatchTarget(policy, S, `/@${PROD}`).hostname, SANDBOX);
    assert.equal(checkDispatchTarget(policy, new URL(S), '/api').href, `${S}/api`);
  });
  for (const path of [`@${PROD}`, `${PROD}/x`, `https://${PROD}/x`, `http://${PROD}/`, '', '/x\r\nHost: a', undefined]) {
    it(`refuses the non-origin-form path ${JSON.stringify(path)}`, () => {
      assert.throws(() => checkDispatchTarget(policy, S, path), (e: unknown) => e instanceof HostGuardRefusal && e.reason === 'malformed');
    });
  }
  it('refuses an origin carrying a path', () => {
    assert.throws(() => checkDispatchTarget(policy, `${S}/api`, '/x'), (e: unknown) => e instanceof HostGuardRefusal && e.reason === 'malformed');
  });
  it('refuses a prod origin whatever the path', () => {
    assert.throws(() => checkDispatchTarget(policy, `https://${PROD}`, `//${SANDBOX}/`), (e: unknown) => e instanceof HostGuardRefusal && e.reason === 'host');
  });

  it("undici's request(url) splits the URL into origin + path, and the guard sees exactly that", async () => {
    const seen: Dispatcher.DispatchOptions[] = [];
    class Recorder extends Dispatcher {
      override dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
        seen.push(opts);
        handler.onResponseError?.(null as unknown as Dispatcher.DispatchController, new Error('recorded'));
        return true;
      }
    }
    const dispatcher = new Recorder().compose(hostGuardInterceptor(policy, true));
    await assert.rejects(request(`${S}//${PROD}/x`, { dispatcher }), /recorded/);
    await assert.rejects(request(`${S}/@${PROD}`, { dispatcher }), /recorded/);
    await assert.rejects(request({ origin: S, path: `@${PROD}` } as never, { dispatcher }), /recorded/); // undici prefixes "/"
    assert.deepEqual(
      seen.map((o) => [String(o.origin), o.path]),
      [[S, `//${PROD}/x`], [S, `/@${PROD}`], [S, `/@${PROD}`]],
    );
    // a prod URL never reaches the inner dispatch
    await assert.rejects(request(`https://${PROD}/x`, { dispatcher }), HostGuardRefusal);
    await assert.rejects(request(`${S}@${PROD}/x`, { dispatcher }), HostGuardRefusal);
    // a raw dispatch with a non-origin-form path is refused before the inner dispatch
    const refused = await new Promise<Error>((resolve) => {
      dispatcher.dispatch({ origin: S, path: `@${PROD}`, method: 'GET' }, {
        onRequestStart: () => undefined,
        onResponseError: (_c, e) => resolve(e),
      });
    });
    assert.ok(refused instanceof HostGuardRefusal && refused.reason === 'malformed');
    assert.equal(seen.length, 3);
  });
});

// ---------------------------------------------------------------------------------------------------------
// The dispatcher against loopback servers: the sandbox name resolves to 127.0.0.1, prod to 127.0.0.2, both
// through the Agent's connect.lookup hook, so the guard sees exactly the names it sees in live.

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | { address: string; family: number }[], family?: number) => void;

function lookupHook(resolved: string[]) {
  const table: Record<string, string> = { [SANDBOX]: '127.0.0.1', [`${SANDBOX}.`]: '127.0.0.1', [PROD]: '127.0.0.2', [`${PROD}.`]: '127.0.0.2' };
  return (hostname: string, options: { all?: boolean }, callback: LookupCallback): void => {
    resolved.push(hostname);
    const address = table[hostname.toLowerCase()];
    if (!address) {
      callback(Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), '');
      return;
    }
    if (options.all) callback(null, [{ address, family: 4 }]);
    else callback(null, address, 4);
  };
}

function listen(server: NetServer | HttpsServer, host: string, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

function close(server: NetServer | HttpsServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

describe('guardedDispatcher: refusals happen before any socket', () => {
  let sandboxServer: NetServer;
  let prodServer: NetServer;
  const connections = { sandbox: 0, prod: 0 };
  let port = 0;
  const sockets: Socket[] = [];

  before(async () => {
    sandboxServer = createNetServer((s) => { connections.sandbox++; sockets.push(s); s.destroy(); });
    prodServer = createNetServer((s) => { connections.prod++; sockets.push(s); s.destroy(); });
    port = await listen(sandboxServer, '127.0.0.1');
    await listen(prodServer, '127.0.0.2', port);
  });
  after(async () => {
    await close(sandboxServer);
    await close(prodServer);
  });

  it('refuses prod with no lookup and no connection', async () => {
    const resolved: string[] = [];
    const dispatcher = guardedDispatcher(sandboxPolicy(SANDBOX, port), { connect: { lookup: lookupHook(resolved) as never } });
    try {
      for (const url of [
        `https://${PROD}:${port}/api/index.php/supplierinvoices`,
        `https://${PROD.toUpperCase()}.:${port}/`,
        `${S}:${port}@${PROD}:${port}/`,
        `http://${SANDBOX}:${port}/`,
        `https://127.0.0.1:${port}/`,
        `https://2130706433:${port}/`,
        `https://[::1]:${port}/`,
        `https://${SANDBOX}.evil.com:${port}/`,
        `https://${SANDBOX}:${port + 1}/`,
      ]) {
        await assert.rejects(
          request(url, { dispatcher, method: 'POST', body: '{"amount":1}' }),
          (e: unknown) => e instanceof HostGuardRefusal,
          url,
        );
      }
      assert.deepEqual(resolved, []);
      assert.deepEqual(connections, { sandbox: 0, prod: 0 });
    } finally {
      await dispatcher.close();
    }
  });

  it('refuses a dispatch whose origin spells the allowed port otherwise, with no lookup and no connection', async () => {
    const resolved: string[] = [];
    const dispatcher = guardedDispatcher(sandboxPolicy(SANDBOX, port), { connect: { lookup: lookupHook(resolved) as never } });
    try {
      for (const origin of [`${S}:0${port}`, `${S}:00${port}`, `${S}:`, `${S}:0443`]) {
        const refused = await new Promise<Error>((resolve) => {
          dispatcher.dispatch({ origin, path: '/api/index.php/thirdparties', method: 'POST', body: '{}' }, {
            onRequestStart: () => undefined,
            onResponseError: (_c, e) => resolve(e),
          });
        });
        assert.ok(refused instanceof HostGuardRefusal && refused.reason === 'port', `${origin}: ${String(refused)}`);
      }
      assert.deepEqual(resolved, []);
      assert.deepEqual(connections, { sandbox: 0, prod: 0 });
    } finally {
      await dispatcher.close();
    }
  });

  it('lets the sandbox host through to the connect stage (the TLS handshake then fails, that is fine)', async () => {
    const resolved: string[] = [];
    const dispatcher = guardedDispatcher(sandboxPolicy(SANDBOX, port), { connect: { lookup: lookupHook(resolved) as never } });
    try {
      const error = await request(`${S}:${port}//${PROD}/x`, { dispatcher, method: 'POST', body: '{}' }).then(
        () => assert.fail('no HTTP answer expected'),
        (e: unknown) => e,
      );
      assert.ok(!(error instanceof HostGuardRefusal), `refused: ${String(error)}`);
      assert.deepEqual(resolved, [SANDBOX]);
      assert.deepEqual(connections, { sandbox: 1, prod: 0 });
    } finally {
      await dispatcher.close();
    }
  });

  it('userinfo on a sandbox URL: undici.request drops it before dispatch, so the connection is the sandbox', async () => {
    const before = connections.sandbox;
    const resolved: string[] = [];
    const dispatcher = guardedDispatcher(sandboxPolicy(SANDBOX, port), { connect: { lookup: lookupHook(resolved) as never } });
    try {
      await assert.rejects(request(`https://user:pw@${SANDBOX}:${port}/`, { dispatcher }), (e: unknown) => !(e instanceof HostGuardRefusal));
      assert.deepEqual(resolved, [SANDBOX]);
      assert.equal(connections.sandbox, before + 1);
      assert.equal(connections.prod, 0);
    } finally {
      await dispatcher.close();
    }
  });

  it('refuses a request asking undici to follow redirects', async () => {
    const dispatcher = guardedDispatcher(sandboxPolicy(SANDBOX, port), { connect: { lookup: lookupHook([]) as never } });
    try {
      await assert.rejects(
        request(`${S}:${port}/`, { dispatcher, maxRedirections: 3 } as never),
        (e: unknown) => e instanceof HostGuardRefusal && e.reason === 'redirect',
      );
    } finally {
      await dispatcher.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------------------
// Redirects need real HTTPS: a self-signed certificate for both names, made with openssl at test time
// (.ci/run installs openssl where it is missing; without it these tests fail rather than skip).

describe('guardedDispatcher: redirects', () => {
  let ca: Buffer;
  let sandboxServer: HttpsServer;
  let prodServer: HttpsServer;
  let port = 0;
  const hits = { sandbox: [] as string[], prod: [] as string[], prodConnections: 0 };

  before(async () => {
    const certificate = selfSignedCertificate([SANDBOX, PROD]);
    ca = certificate.cert;
    const { key } = certificate;
    sandboxServer = createHttpsServer({ key, cert: ca }, (req, res) => {
      hits.sandbox.push(`${req.method} ${req.url}`);
      if (req.url === '/to-prod') {
        res.writeHead(302, { location: `https://${PROD}:${port}/stolen` }).end();
      } else if (req.url === '/to-prod-303') {
        res.writeHead(303, { location: `https://${PROD}:${port}/stolen` }).end();
      } else if (req.url === '/to-ip') {
        res.writeHead(307, { location: `https://127.0.0.2:${port}/stolen` }).end();
      } else if (req.url === '/local') {
        res.writeHead(302, { location: '/ok' }).end();
      } else {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('sandbox ok');
      }
    });
    prodServer = createHttpsServer({ key, cert: ca }, (req, res) => {
      hits.prod.push(`${req.method} ${req.url}`);
      res.writeHead(200).end('PROD WAS REACHED');
    });
    prodServer.on('connection', () => { hits.prodConnections++; });
    port = await listen(sandboxServer, '127.0.0.1');
    await listen(prodServer, '127.0.0.2', port);
  });
  after(async () => {
    sandboxServer.closeAllConnections();
    prodServer.closeAllConnections();
    await close(sandboxServer);
    await close(prodServer);
  });

  const make = (followRedirects: boolean) =>
    guardedDispatcher(sandboxPolicy(SANDBOX, port), { followRedirects, connect: { ca, lookup: lookupHook([]) as never } });

  it('the sandbox answers through the guard', async () => {
    const dispatcher = make(false);
    try {
      const res = await request(`${S}:${port}/api`, { dispatcher, method: 'POST', body: '{}' });
      assert.equal(res.statusCode, 200);
      assert.equal(await res.body.text(), 'sandbox ok');
    } finally {
      await dispatcher.close();
    }
  });

  it('default: a 302 to prod is surfaced as a redirect refusal naming prod, never followed', async () => {
    const dispatcher = make(false);
    try {
      for (const method of ['POST', 'PUT', 'DELETE', 'GET'] as const) {
        await assert.rejects(
          request(`${S}:${port}/to-prod`, { dispatcher, method, body: method === 'GET' ? null : '{}' }),
          (e: unknown) => e instanceof HostGuardRefusal && e.reason === 'redirect' && e.refusedHost === PROD && e.message.includes(PROD),
          method,
        );
      }
      // even a same-host redirect is not followed for the write tooling
      await assert.rejects(request(`${S}:${port}/local`, { dispatcher, method: 'POST', body: '{}' }),
        (e: unknown) => e instanceof HostGuardRefusal && e.reason === 'redirect' && e.refusedHost === SANDBOX);
      assert.deepEqual(hits.prod, []);
      assert.equal(hits.prodConnections, 0);
    } finally {
      await dispatcher.close();
    }
  });

  it('followRedirects: every hop is re-checked, a hop to prod is refused naming prod', async () => {
    const dispatcher = make(true);
    try {
      for (const path of ['/to-prod', '/to-prod-303']) {
        const sandboxBefore = hits.sandbox.length;
        await assert.rejects(
          request(`${S}:${port}${path}`, { dispatcher, method: 'POST', body: '{"amount":1}' }),
          (e: unknown) =>
            e instanceof HostGuardRefusal && e.reason === 'host' && e.refusedHost === PROD && /redirect hop/.test(e.message),
          path,
        );
        assert.equal(hits.sandbox.length, sandboxBefore + 1, 'the first hop did reach the sandbox');
      }
      await assert.rejects(
        request(`${S}:${port}/to-ip`, { dispatcher, method: 'PUT', body: '{}' }),
        (e: unknown) => e instanceof HostGuardRefusal && e.reason === 'ip literal' && e.refusedHost === '127.0.0.2',
      );
      assert.deepEqual(hits.prod, []);
      assert.equal(hits.prodConnections, 0);
      // a redirect inside the sandbox is followed
      const res = await request(`${S}:${port}/local`, { dispatcher });
      assert.equal(res.statusCode, 200);
      assert.equal(await res.body.text(), 'sandbox ok');
    } finally {
      await dispatcher.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------------------
// What the gates check "before any connection" with on every target: the process's own view of its traffic
// (support/process/connections.ts), beneath the guard, attributed to the observed work alone.

describe('NetworkLog: what an attempt opened and sent, seen from the process beneath the guard', () => {
  let ca: Buffer;
  let sandboxServer: HttpsServer;
  let prodServer: HttpsServer;
  let port = 0;
  const accepted = { sandbox: 0, prod: 0 };

  before(async () => {
    const certificate = selfSignedCertificate([SANDBOX, PROD]);
    ca = certificate.cert;
    sandboxServer = createHttpsServer({ key: certificate.key, cert: ca }, (_req, res) => res.writeHead(200).end('sandbox ok'));
    prodServer = createHttpsServer({ key: certificate.key, cert: ca }, (_req, res) => res.writeHead(401).end('{}'));
    sandboxServer.on('connection', () => { accepted.sandbox++; });
    prodServer.on('connection', () => { accepted.prod++; });
    port = await listen(sandboxServer, '127.0.0.1');
    await listen(prodServer, '127.0.0.2', port);
  });
  after(async () => {
    sandboxServer.closeAllConnections();
    prodServer.closeAllConnections();
    await close(sandboxServer);
    await close(prodServer);
  });

  const guarded = () => guardedDispatcher(sandboxPolicy(SANDBOX, port), { connect: { ca, lookup: lookupHook([]) as never } });

  it('a refused request leaves nothing: no socket, no connection, no request', async () => {
    const log = new NetworkLog();
    const dispatcher = guarded();
    try {
      await assert.rejects(log.observe(() => request(`https://${PROD}:${port}/api/index.php/thirdparties`, { dispatcher, method: 'POST', body: '{}' })), HostGuardRefusal);
      assert.equal(log.observed, 1);
      assert.deepEqual({ sockets: log.sockets, connections: log.connections, requests: log.requests }, { sockets: [], connections: [], requests: [] });
    } finally {
      await dispatcher.close();
    }
  });

  it('a request past the guard (an undici Agent without it) shows its TLS socket, its host and its request', async () => {
    const log = new NetworkLog();
    const before = accepted.prod;
    const agent = new Agent({ connect: { ca, lookup: lookupHook([]) as never } });
    try {
      const res = await log.observe(() => request(`https://${PROD.toUpperCase()}.:${port}/api/index.php/status`, { dispatcher: agent }));
      await res.body.text();
      assert.equal(accepted.prod, before + 1, 'the server did see it');
      assert.deepEqual(log.sockets, [{ address: '127.0.0.2', port }]);
      assert.deepEqual(log.connections, [{ host: PROD, port }]);
      assert.deepEqual(log.requests, [{ host: PROD, port, method: 'GET', path: '/api/index.php/status' }]);
    } finally {
      await agent.close();
    }
  });

  it("the guarded client's own connection to the sandbox is seen; a URL without a port is named with 443", async () => {
    const log = new NetworkLog();
    const dispatcher = guarded();
    const elsewhere = new Agent({ connect: { lookup: lookupHook([]) as never, timeout: 1000 } });
    try {
      const res = await log.observe(() => request(`${S}:${port}/`, { dispatcher }));
      assert.equal(await res.body.text(), 'sandbox ok');
      assert.deepEqual(log.connections, [{ host: SANDBOX, port }]);
      assert.deepEqual(log.sockets, [{ address: '127.0.0.1', port }]);
      // Whether or not anything answers on 443, the attempt is named with the scheme's default port.
      await log.observe(() => request(`https://${SANDBOX}/`, { dispatcher: elsewhere }).catch(() => undefined));
      assert.deepEqual(log.connections.at(-1), { host: SANDBOX, port: 443 });
      assert.deepEqual(log.sockets.at(-1), { address: '127.0.0.1', port: 443 });
      assert.equal(log.observed, 2);
    } finally {
      await dispatcher.close();
      await elsewhere.close();
    }
  });

  it('sees sockets whatever opens them (node:https here), and nothing of work it does not observe', async () => {
    const log = new NetworkLog();
    const outside = new Agent({ connect: { ca, lookup: lookupHook([]) as never } });
    try {
      // Unobserved work running at the same time as observed work is not counted against it.
      const unobserved = request(`${S}:${port}/`, { dispatcher: outside }).then((res) => res.body.text());
      await log.observe(() => new Promise<void>((resolve, reject) => {
        const req = httpsRequest({ host: '127.0.0.2', port, path: '/', ca, servername: PROD }, (res) => { res.resume(); res.on('end', resolve); });
        req.on('error', reject);
        req.end();
      }));
      await unobserved;
      assert.deepEqual(log.sockets, [{ address: '127.0.0.2', port }]);
      assert.deepEqual(log.connections, [], 'node:https is not undici: no host name, but the socket is there');
    } finally {
      await outside.close();
    }
  });
});
