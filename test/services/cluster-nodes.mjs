// CLUSTER NODES, parsed: one line per node,
// `<id> <ip:port@busport[,hostname]> <flags> <master id|-> <ping> <pong> <epoch> <link> <slot ranges…>`.

export function parseClusterNodes(text) {
  return text.trim().split('\n').map(parseLine);
}

function parseLine(line) {
  const [id, address, flagList, masterId, , , , , ...slotFields] = line.trim().split(' ');
  const flags = flagList.split(',');
  return {
    id,
    port: Number(/:(\d+)@/.exec(address)?.[1]),
    role: flags.includes('master') ? 'master' : 'replica',
    masterId: masterId === '-' ? undefined : masterId,
    failed: flags.includes('fail'),
    // `[slot->-id]` / `[slot-<-id]` are slots being migrated: not served here yet.
    slots: slotFields.filter((field) => !field.startsWith('[')).map((field) => {
      const [from, to = from] = field.split('-').map(Number);
      return [from, to];
    }),
  };
}
