// Turns what a failed call into a jco-transpiled component threw into a harness trap
// kind and a one-line message, with the same patterns as harness/execute/traps.py
// (wasmtime's messages, which jco's generated code copies).
//
// jco's handle tables store an entry in two array slots, and its messages print the
// slot, (h << 1) + 1, not the handle: "unknown handle index 3" is handle 1. The message
// is rewritten to the handle so that both runtimes' messages name the same index.

const CAUSES = [
  [/unknown handle index/, "unknown-handle"],
  [/used with the wrong type/, "wrong-type"],
  [/cannot remove owned resource while borrowed/, "own-lent"],
  [/borrow handles still remain at the end of the call/, "borrow-outstanding"],
  [/cannot lift own resource from a borrow/, "borrow-as-own"],
  [/resource limit|memory.*(limit|exceed)|out of memory/i, "resource-limit"],
];

function oneLine(text) {
  return String(text).replace(/\s+/g, " ").trim().replace(/^wasm trap: /, "");
}

export function handleOfSlot(message) {
  return message.replace(/unknown handle index (\d+)/, (_, slot) => `unknown handle index ${(Number(slot) - 1) >> 1}`);
}

export function classify(error, HostTrap) {
  if (error instanceof HostTrap) return [error.kind, error.message];
  const message = handleOfSlot(oneLine(error?.message ?? error));
  if (error instanceof WebAssembly.RuntimeError) {
    for (const [pattern, kind] of CAUSES) if (pattern.test(message)) return [kind, message];
    return ["guest-trap", message];
  }
  if (error instanceof RangeError && /call stack/i.test(message)) return ["guest-trap", message];
  return ["host-error", `${error?.name ?? "Error"}: ${message}`];
}
