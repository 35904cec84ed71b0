// Just enough of the Redis protocol to start and watch servers without a client library: one
// command per connection, replies of one simple string, error, integer or bulk string.
import { connect } from 'node:net';

/** Sends `args` to the server on 127.0.0.1:`port`; resolves its reply, rejects on an error reply. */
export function redisCommand(port, args, timeoutMs = 2_000) {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let buffer = Buffer.alloc(0);
    let done = false;
    const finish = (error, value) => {
      if (done) return;
      done = true;
      socket.destroy();
      if (error) reject(error);
      else resolve(value);
    };
    socket.setTimeout(timeoutMs, () => finish(new Error(`redis on port ${port}: no answer within ${timeoutMs} ms`)));
    socket.once('error', (error) => finish(error));
    socket.once('close', () => finish(new Error(`redis on port ${port} closed the connection`)));
    socket.once('connect', () => socket.write(encode(args)));
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      const reply = parse(buffer);
      if (reply) finish(reply.error, reply.value);
    });
  });
}

/** True when the server on `port` answers PING. */
export async function answersPing(port) {
  try {
    return (await redisCommand(port, ['PING'], 1_000)) === 'PONG';
  } catch {
    return false;
  }
}

/** `field:value` lines (INFO, CLUSTER INFO) as an object. */
export function parseInfo(text) {
  const fields = text.split('\r\n').filter((line) => line.includes(':'));
  return Object.fromEntries(fields.map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1)]));
}

// ---------------------------------------------------------------------------------------

function encode(args) {
  return `*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(String(arg))}\r\n${arg}\r\n`).join('')}`;
}

/** The reply in `buffer`, or undefined while it is incomplete. */
function parse(buffer) {
  const end = buffer.indexOf('\r\n');
  if (end < 0) return undefined;
  const head = buffer.toString('utf8', 1, end);
  switch (String.fromCharCode(buffer[0])) {
    case '+':
      return { value: head };
    case '-':
      return { error: new Error(head) };
    case ':':
      return { value: Number(head) };
    case '$': {
      const length = Number(head);
      if (length < 0) return { value: null };
      if (buffer.length < end + 2 + length + 2) return undefined;
      return { value: buffer.toString('utf8', end + 2, end + 2 + length) };
    }
    default:
      return { error: new Error(`unexpected Redis reply: ${buffer.toString('utf8', 0, 80)}`) };
  }
}
