;; The far end of the chain: implements `peer` for b. Keeps streams it takes by
;; `own`, drops every borrow before returning, hands back what it keeps.
;; Reads report what was seen: a count or a byte, -1 for `ended`, -2 for `closed`.
(module
  (import "handle-compat:io/host@0.1.0" "open-input" (func $open_input (param i32 i32) (result i32)))
  (import "handle-compat:io/streams@0.1.0" "[method]input-stream.read" (func $read (param i32 i64 i32)))
  (import "handle-compat:io/streams@0.1.0" "[resource-drop]input-stream" (func $drop (param i32)))
  (import "handle-compat:io/probe@0.1.0" "emit" (func $emit (param i32 i32 i64)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (global $kept (mut i32) (i32.const 0))
  (data (i32.const 16) "peer data")
  (data (i32.const 32) "received")
  (data (i32.const 48) "gave-own")
  (data (i32.const 112) "dropped")
  (data (i32.const 128) "handle")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
    (global.set $heap (i32.add (local.get $ptr) (local.get 3)))
    (local.get $ptr))
  ;; read: result<list<u8>, stream-error> at 64: tag at 64, list ptr at 68 and
  ;; len at 72, or the error enum at 68.
  ;; Bytes read, -1 for `ended`, -2 for `closed`.
  (func $read_len (param $h i32) (param $len i64) (result i64)
    (call $read (local.get $h) (local.get $len) (i32.const 64))
    (if (result i64) (i32.load8_u (i32.const 64))
      (then (i64.sub (i64.const -1) (i64.load8_u (i32.const 68))))
      (else (i64.extend_i32_u (i32.load (i32.const 72))))))
  ;; The next byte, -1 for `ended`, -2 for `closed`.
  (func $read_byte (param $h i32) (result i64)
    (local $n i64)
    (local.set $n (call $read_len (local.get $h) (i64.const 1)))
    (if (result i64) (i64.eq (local.get $n) (i64.const 1))
      (then (i64.load8_u (i32.load (i32.const 68))))
      (else (local.get $n))))
  (func $note (param $tag i32) (param $len i32) (param $h i32)
    (call $emit (local.get $tag) (local.get $len) (i64.extend_i32_u (local.get $h))))
  ;; take: keep the stream, read 2 bytes from it, return the count.
  (func (export "handle-compat:io/peer@0.1.0#take") (param $h i32) (result i64)
    (global.set $kept (local.get $h))
    (call $note (i32.const 32) (i32.const 8) (local.get $h))
    (call $read_len (local.get $h) (i64.const 2)))
  ;; lend: read 1 byte through the borrow, drop the borrow, return the count.
  (func (export "handle-compat:io/peer@0.1.0#lend") (param $h i32) (result i64)
    (local $n i64)
    (call $note (i32.const 32) (i32.const 8) (local.get $h))
    (local.set $n (call $read_len (local.get $h) (i64.const 1)))
    (call $drop (local.get $h))
    (local.get $n))
  ;; poke, poke-list: not used here; an integer is not a handle.
  (func (export "handle-compat:io/peer@0.1.0#poke") (param $raw i32) (result i64)
    unreachable)
  (func (export "handle-compat:io/peer@0.1.0#poke-list") (param $ptr i32) (param $len i32) (result i64)
    unreachable)
  ;; hand-back: give the kept stream back to the caller; b no longer has it.
  (func (export "handle-compat:io/peer@0.1.0#hand-back") (result i32)
    (local $h i32)
    (local.set $h (global.get $kept))
    (global.set $kept (i32.const 0))
    (call $note (i32.const 48) (i32.const 8) (local.get $h))
    (local.get $h))
  ;; lend-then-take: not used here.
  (func (export "handle-compat:io/peer@0.1.0#lend-then-take") (param $lent i32) (param $owned i32) (result i64)
    unreachable)
  ;; op 1: read 1 byte from the kept stream; returns the byte.
  ;; op 2: drop the kept stream (returns 0).
  ;; op 3: open a stream of b's own over "peer data" (9 bytes) and keep it (returns 0).
  (func (export "handle-compat:io/driver@0.1.0#run") (param $op i32) (param $arg i64) (result i64)
    (if (i32.eq (local.get $op) (i32.const 1))
      (then (return (call $read_byte (global.get $kept)))))
    (if (i32.eq (local.get $op) (i32.const 2))
      (then
        (call $note (i32.const 112) (i32.const 7) (global.get $kept))
        (call $drop (global.get $kept))
        (global.set $kept (i32.const 0))
        (return (i64.const 0))))
    (if (i32.eq (local.get $op) (i32.const 3))
      (then
        (global.set $kept (call $open_input (i32.const 16) (i32.const 9)))
        (call $note (i32.const 128) (i32.const 6) (global.get $kept))
        (return (i64.const 0))))
    unreachable)
)
