;; Gives its stream away, takes it back, then lends it: every handle it uses is
;; one it holds at that moment, so the guest is correct under every model.
(module
  (import "handle-compat:io/host@0.1.0" "open-input" (func $open_input (param i32 i32) (result i32)))
  (import "handle-compat:io/streams@0.1.0" "[method]input-stream.read" (func $read (param i32 i64 i32)))
  (import "handle-compat:io/streams@0.1.0" "[resource-drop]input-stream" (func $drop (param i32)))
  (import "handle-compat:io/peer@0.1.0" "take" (func $take (param i32) (result i64)))
  (import "handle-compat:io/peer@0.1.0" "lend" (func $lend (param i32) (result i64)))
  (import "handle-compat:io/peer@0.1.0" "hand-back" (func $hand_back (result i32)))
  (import "handle-compat:io/probe@0.1.0" "emit" (func $emit (param i32 i32 i64)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  ;; The stream a holds; 0 while it is away.
  (global $mine (mut i32) (i32.const 0))
  (data (i32.const 16) "hello")
  (data (i32.const 32) "gave-own")
  (data (i32.const 48) "got-back")
  (data (i32.const 64) "lent")
  (data (i32.const 80) "dropped")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
    (global.set $heap (i32.add (local.get $ptr) (local.get 3)))
    (local.get $ptr))
  (func $note (param $tag i32) (param $len i32) (param $h i32)
    (call $emit (local.get $tag) (local.get $len) (i64.extend_i32_u (local.get $h))))
  ;; Reads up to $len bytes; the result record lands at 256 (tag), 260 (ptr or
  ;; error enum), 264 (len). Returns the count, -1 for `ended`, -2 for `closed`.
  (func $read_len (param $h i32) (param $len i64) (result i64)
    (call $read (local.get $h) (local.get $len) (i32.const 256))
    (if (result i64) (i32.load8_u (i32.const 256))
      (then (i64.sub (i64.const -1) (i64.load8_u (i32.const 260))))
      (else (i64.extend_i32_u (i32.load (i32.const 264))))))
  ;; op 1: open a stream over "hello" and give it to b (take); returns what b read.
  ;; op 2: ask b for it back (hand-back) and read 1 byte; returns the byte.
  ;; op 3: lend it to b (lend); returns what b read through the borrow.
  ;; op 4: read up to `arg` bytes; returns the count.
  ;; op 5: drop it; returns 0.
  (func (export "handle-compat:io/driver@0.1.0#run") (param $op i32) (param $arg i64) (result i64)
    (local $h i32) (local $n i64)
    (if (i32.eq (local.get $op) (i32.const 1))
      (then
        (local.set $h (call $open_input (i32.const 16) (i32.const 5)))
        (call $note (i32.const 32) (i32.const 8) (local.get $h))
        (return (call $take (local.get $h)))))
    (if (i32.eq (local.get $op) (i32.const 2))
      (then
        (global.set $mine (call $hand_back))
        (call $note (i32.const 48) (i32.const 8) (global.get $mine))
        (local.set $n (call $read_len (global.get $mine) (i64.const 1)))
        (if (i64.eq (local.get $n) (i64.const 1))
          (then (local.set $n (i64.load8_u (i32.load (i32.const 260))))))
        (return (local.get $n))))
    (if (i32.eq (local.get $op) (i32.const 3))
      (then
        (call $note (i32.const 64) (i32.const 4) (global.get $mine))
        (return (call $lend (global.get $mine)))))
    (if (i32.eq (local.get $op) (i32.const 4))
      (then (return (call $read_len (global.get $mine) (local.get $arg)))))
    (if (i32.eq (local.get $op) (i32.const 5))
      (then
        (call $note (i32.const 80) (i32.const 7) (global.get $mine))
        (call $drop (global.get $mine))
        (global.set $mine (i32.const 0))
        (return (i64.const 0))))
    unreachable)
)
