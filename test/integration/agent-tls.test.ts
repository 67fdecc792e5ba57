// The LocalAgent's TLS listener (`tls` option): the same executor API over https, in both
// encodings; a client certificate required when asked; bad identities refused at construction.
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import type { ContentType } from '../../src/protocol/codec.js';
import { LocalAgent } from '../../src/agent/index.js';
import { agentRig, ids, postCall, rawRequest, subscribe, taskStatus, updateCall, type ClientTls } from '../helpers/agent-client.js';
import { TestCertificates, type CertificateAuthority, type Issued } from '../helpers/certificates.js';

const { startAgent, open } = agentRig();
const ENCODINGS: readonly ContentType[] = ['application/json', 'application/x-protobuf'];

const certs = new TestCertificates();
let ca: CertificateAuthority;
let identity: Issued;
let clientCa: CertificateAuthority;
let client: Issued;
before(() => {
  ca = certs.root('Agent CA');
  identity = ca.issue({ cn: 'agent', names: ['IP:127.0.0.1'] });
  clientCa = certs.root('Executor CA');
  client = clientCa.issue({ cn: 'executor' });
});
after(() => certs.remove());

describe('LocalAgent over TLS', () => {
  for (const contentType of ENCODINGS) {
    it(`an https client gets SUBSCRIBED, LAUNCH and ACKNOWLEDGED; calls are recorded as tls (${contentType})`, async () => {
      const agent = await startAgent({ tls: { key: identity.key, cert: identity.cert } });
      assert.equal(agent.url, `https://${agent.endpoint}/slave(1)/api/v1/executor`);
      const tls: ClientTls = { ca: ca.caCert };
      const s = await open(agent, { contentType, tls });
      await s.next('SUBSCRIBED');
      agent.launchTask('t1');
      await s.next('LAUNCH');
      assert.equal((await postCall(agent, updateCall(agent, taskStatus(agent, 't1', 'TASK_RUNNING')), { contentType, tls })).status, 202);
      await s.next('ACKNOWLEDGED');
      assert.deepEqual(agent.calls.map((c) => [c.type, c.transport]), [['SUBSCRIBE', 'tls'], ['UPDATE', 'tls']]);
      // Plain HTTP on the TLS port gets no answer the client can read.
      await assert.rejects(rawRequest(agent.endpoint, { method: 'GET' }));
    });
  }

  it('with requestClientCert, refuses a client without a certificate its CAs verify', async () => {
    const agent = await startAgent({ tls: { key: identity.key, cert: identity.cert, ca: clientCa.caCert, requestClientCert: true } });
    const heartbeat = { ...ids(agent), type: 'HEARTBEAT' as const };
    await assert.rejects(postCall(agent, heartbeat, { tls: { ca: ca.caCert } }));
    const stranger = ca.issue({ cn: 'stranger' });
    await assert.rejects(postCall(agent, heartbeat, { tls: { ca: ca.caCert, key: stranger.key, cert: stranger.cert } }));
    const ok = await postCall(agent, heartbeat, { tls: { ca: ca.caCert, key: client.key, cert: client.cert } });
    assert.equal(ok.status, 202);
    const s = await subscribe(agent, { tls: { ca: ca.caCert, key: client.key, cert: client.cert } });
    await s.next('SUBSCRIBED');
    s.close();
  });

  it('checks the identity once, at construction', () => {
    assert.throws(() => new LocalAgent({ tls: { key: '', cert: identity.cert } }), { code: 'MPE_INVALID_OPTION', option: 'tls.key' });
    assert.throws(() => new LocalAgent({ tls: { key: client.key, cert: identity.cert } }), { code: 'MPE_INVALID_OPTION', option: 'tls' });
    assert.throws(() => new LocalAgent({ tls: { key: identity.key, cert: identity.cert, requestClientCert: true } }), {
      code: 'MPE_INVALID_OPTION',
      option: 'tls.ca',
    });
  });
});
