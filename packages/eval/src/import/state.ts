/**
 * Connection states of the data sets mapped to the conntrack vocabulary FlowRecord uses
 * (`state` is a TCP state as conntrack names it; `unreplied`/`assured` as conntrack's flags), so
 * the detectors read an imported flow like a conntrack DESTROY event. Only TCP gets a `state`;
 * for every protocol `unreplied` is set when nothing came back and `assured` when both sides
 * spoke. What a data set does not say stays absent.
 */
import { PROTO } from '@floe/flow';

/** The conntrack-style fields derived from a data set's state. */
export interface ConnFlags {
  state?: string;
  unreplied?: true;
  assured?: true;
}

const NONE: ConnFlags = {};
const UNREPLIED_SYN: ConnFlags = { state: 'SYN_SENT', unreplied: true };
const UNREPLIED: ConnFlags = { unreplied: true };
const REFUSED: ConnFlags = { state: 'CLOSE' };
const ASSURED: ConnFlags = { assured: true };

/**
 * Zeek `conn_state` (Zeek docs, base/protocols/conn/main.zeek, `Conn::Info$conn_state`):
 * S0 attempt, no reply → SYN_SENT + unreplied; REJ attempt rejected (RST back) → CLOSE;
 * S1 established → ESTABLISHED + assured; SF normal close → TIME_WAIT + assured; S2/S3 close
 * attempt by one side → FIN_WAIT / CLOSE_WAIT + assured; RSTO/RSTR established then reset →
 * CLOSE + assured; RSTOS0 and SH (SYN then RST/FIN, no SYN-ACK) → CLOSE + unreplied; RSTRH, SHR,
 * OTH (no SYN from the originator seen, midstream) → no state. Non-TCP: S0 → unreplied, SF →
 * assured; `respPackets === 0` marks any flow unreplied.
 */
export function fromZeekConnState(connState: string, protocol: number, respPackets?: number): ConnFlags {
  let f: ConnFlags;
  if (protocol === PROTO.tcp) {
    switch (connState) {
      case 'S0':
        f = UNREPLIED_SYN;
        break;
      case 'REJ':
        f = REFUSED;
        break;
      case 'S1':
        f = { state: 'ESTABLISHED', assured: true };
        break;
      case 'SF':
        f = { state: 'TIME_WAIT', assured: true };
        break;
      case 'S2':
        f = { state: 'FIN_WAIT', assured: true };
        break;
      case 'S3':
        f = { state: 'CLOSE_WAIT', assured: true };
        break;
      case 'RSTO':
      case 'RSTR':
        f = { state: 'CLOSE', assured: true };
        break;
      case 'RSTOS0':
      case 'SH':
        f = { state: 'CLOSE', unreplied: true };
        break;
      default:
        f = NONE;
    }
  } else {
    f = connState === 'S0' ? UNREPLIED : connState === 'SF' ? ASSURED : NONE;
  }
  return respPackets === 0 && !f.unreplied ? { ...f, assured: undefined, unreplied: true } : f;
}

/**
 * Argus state (CTU binetflow `State`, UNSW-NB15 `state`; argus(8) and ra(1) `-s state`). TCP as
 * `<origin flags>_<reply flags>` (S syn, A ack, P push, F fin, R reset, E/C/U ecn/cwr/urg):
 * no reply flags → SYN_SENT + unreplied; a reply with R but no S (`S_RA`) → CLOSE (refused); both
 * sides F → TIME_WAIT + assured; reply S and any R → CLOSE + assured; reply S (handshake) →
 * ESTABLISHED + assured. Summary words (UNSW, and non-TCP in CTU): `INT` initial, only the
 * origin spoke → unreplied (SYN_SENT for TCP); `REQ` request, no answer → unreplied; `ECO` ICMP
 * echo without reply → unreplied; `CON` connected, `ECR` echo reply, `ACC` accepted → assured;
 * `FIN` → TIME_WAIT + assured; `RST`/`CLO` → CLOSE (TCP); anything else → nothing claimed.
 */
export function fromArgusState(argusState: string, protocol: number, replyPackets?: number): ConnFlags {
  const tcp = protocol === PROTO.tcp;
  let f: ConnFlags = NONE;
  const us = argusState.indexOf('_');
  if (tcp && us >= 0) {
    const o = argusState.slice(0, us);
    const r = argusState.slice(us + 1);
    if (r === '') f = o.includes('S') ? UNREPLIED_SYN : UNREPLIED;
    else if (r.includes('R') && !r.includes('S')) f = REFUSED;
    else if (o.includes('F') && r.includes('F')) f = { state: 'TIME_WAIT', assured: true };
    else if (r.includes('S') && (r.includes('R') || o.includes('R'))) f = { state: 'CLOSE', assured: true };
    else if (r.includes('S')) f = { state: 'ESTABLISHED', assured: true };
    else f = ASSURED;
  } else {
    switch (argusState) {
      case 'INT':
        f = tcp ? UNREPLIED_SYN : UNREPLIED;
        break;
      case 'REQ':
      case 'ECO':
        f = UNREPLIED;
        break;
      case 'CON':
      case 'ECR':
      case 'ACC':
        f = tcp ? { state: 'ESTABLISHED', assured: true } : ASSURED;
        break;
      case 'FIN':
        f = tcp ? { state: 'TIME_WAIT', assured: true } : ASSURED;
        break;
      case 'RST':
      case 'CLO':
        f = tcp ? REFUSED : NONE;
        break;
      default:
        f = NONE;
    }
  }
  return replyPackets === 0 && !f.unreplied ? { ...f, assured: undefined, unreplied: true } : f;
}
