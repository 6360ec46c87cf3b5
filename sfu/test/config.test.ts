import t from 'tap';
import { ConfigError } from '../../core/src/config.js';
import { parseSfuConfig } from '../src/config.js';

t.test('media bounds: defaults, from the port range, and errors naming the variable', async (t) => {
  const defaults = parseSfuConfig({ PC_SFU_NODE_ID: 'n' });
  t.same(
    defaults.limits,
    { sendTransportsPerPeer: 1, recvTransportsPerPeer: 2, consumersPerPeer: 32, transportsPerSession: 5_000, transportsPerNode: 9_000 },
    'defaults: 90 % of the 10000 ports of 40000..49999 per process',
  );
  t.equal(parseSfuConfig({ PC_SFU_RTC_MIN_PORT: '40000', PC_SFU_RTC_MAX_PORT: '40099' }).limits.transportsPerNode, 90, 'derived from a smaller range');
  t.same(
    parseSfuConfig({ PC_SFU_MAX_SEND_TRANSPORTS_PER_PEER: '2', PC_SFU_MAX_RECV_TRANSPORTS_PER_PEER: '3', PC_SFU_MAX_CONSUMERS_PER_PEER: '4', PC_SFU_MAX_TRANSPORTS_PER_SESSION: '5', PC_SFU_MAX_TRANSPORTS: '6' }).limits,
    { sendTransportsPerPeer: 2, recvTransportsPerPeer: 3, consumersPerPeer: 4, transportsPerSession: 5, transportsPerNode: 6 },
    'each variable sets its bound',
  );
  t.throws(() => parseSfuConfig({ PC_SFU_RTC_MIN_PORT: '40000', PC_SFU_RTC_MAX_PORT: '40009', PC_SFU_MAX_TRANSPORTS: '11' }), ConfigError, 'more transports than ports');
  t.throws(() => parseSfuConfig({ PC_SFU_RTC_MIN_PORT: '40000', PC_SFU_RTC_MAX_PORT: '40009', PC_SFU_MAX_TRANSPORTS: '11' }), /PC_SFU_MAX_TRANSPORTS \(11\) is above the 10 ports/);
  t.throws(() => parseSfuConfig({ PC_SFU_MAX_RECV_TRANSPORTS_PER_PEER: '0' }), /PC_SFU_MAX_RECV_TRANSPORTS_PER_PEER/, 'a bound below 1 is refused, named');
});
