;; The start and end of the chain: gives a stream to b (which passes it on to
;; c) and later gets it back from b (which gets it back from c).
(module
  (import "handle-compat:io/host@0.1.0" "open-input" (func $open_input (param i32 i32) (result i32)))
  (import "handle-compat:io/streams@0.1.0" "[method]input-stream.read" (func $read (param i32 i64 i32)))
  (import "handle-compat:io/streams@0.1.0" "[resource-drop]input-stream" (func $drop (param i32)))
  (import "handle-compat:io/peer@0.1.0" "take" (func $take (param i32) (result i64)))
  (import "handle-compat:io/peer@0.1.0" "hand-back" (func $hand_back (result i32)))
  (import "handle-compat:io/probe@0.1.0" "emit" (func $emit (param i32 i32 i64)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (global $h (mut i32) (i32.const 0))
  (data (i32.const 16) "abcdefgh")
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
  ;; read: tag at 64, list ptr at 68 and len at 72, or error enum at 68.
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
  ;; op 1: open a stream over "abcdefgh", read 1 byte, give it to b (take);
  ;;       returns 1 + what b's take returned. The index is forgotten.
  ;; op 2: ask b for a stream (hand-back) and keep it; returns its next byte.
  ;; op 3: read up to `arg` bytes from the kept stream; returns the count.
  ;; op 4: drop the kept stream (returns 0).
  (func (export "handle-compat:io/driver@0.1.0#run") (param $op i32) (param $arg i64) (result i64)
    (local $h i32) (local $n i64)
    (if (i32.eq (local.get $op) (i32.const 1))
      (then
        (local.set $h (call $open_input (i32.const 16) (i32.const 8)))
        (call $note (i32.const 128) (i32.const 6) (local.get $h))
        (local.set $n (call $read_len (local.get $h) (i64.const 1)))
        (call $note (i32.const 48) (i32.const 8) (local.get $h))
        (return (i64.add (local.get $n) (call $take (local.get $h))))))
    (if (i32.eq (local.get $op) (i32.const 2))
      (then
        (global.set $h (call $hand_back))
        (call $note (i32.const 32) (i32.const 8) (global.get $h))
        (return (call $read_byte (global.get $h)))))
    (if (i32.eq (local.get $op) (i32.const 3))
      (then (return (call $read_len (global.get $h) (local.get $arg)))))
    (if (i32.eq (local.get $op) (i32.const 4))
      (then
        (call $note (i32.const 112) (i32.const 7) (global.get $h))
        (call $drop (global.get $h))
        (return (i64.const 0))))
    unreachable)
)
