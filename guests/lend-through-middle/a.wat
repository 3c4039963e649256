;; Lends a stream to component b, which lends it on to component c, and keeps
;; using and finally drops the stream itself.
(module
  (import "handle-compat:io/host@0.1.0" "open-input" (func $open_input (param i32 i32) (result i32)))
  (import "handle-compat:io/streams@0.1.0" "[method]input-stream.read" (func $read (param i32 i64 i32)))
  (import "handle-compat:io/streams@0.1.0" "[resource-drop]input-stream" (func $drop (param i32)))
  (import "handle-compat:io/peer@0.1.0" "lend" (func $lend (param i32) (result i64)))
  (import "handle-compat:io/probe@0.1.0" "emit" (func $emit (param i32 i32 i64)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (global $h (mut i32) (i32.const 0))
  (data (i32.const 16) "abcdef")
  (data (i32.const 32) "handle")
  (data (i32.const 48) "lent")
  (data (i32.const 112) "dropped")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
    (global.set $heap (i32.add (local.get $ptr) (local.get 3)))
    (local.get $ptr))
  (func $note (param $tag i32) (param $len i32) (param $h i32)
    (call $emit (local.get $tag) (local.get $len) (i64.extend_i32_u (local.get $h))))
  ;; op 1: open a stream over "abcdef" and lend it to b; returns what b reported.
  ;; op 2: lend it to b again.
  ;; op 3: read 1 byte through a's own handle; returns the byte, -1 for
  ;;       `ended`, -2 for `closed` (result at 64: tag, list ptr at 68, len at 72).
  ;; op 4: drop the stream (returns 0).
  (func (export "handle-compat:io/driver@0.1.0#run") (param $op i32) (param $arg i64) (result i64)
    (if (i32.eq (local.get $op) (i32.const 1))
      (then
        (global.set $h (call $open_input (i32.const 16) (i32.const 6)))
        (call $note (i32.const 32) (i32.const 6) (global.get $h))))
    (if (i32.le_u (local.get $op) (i32.const 2))
      (then
        (call $note (i32.const 48) (i32.const 4) (global.get $h))
        (return (call $lend (global.get $h)))))
    (if (i32.eq (local.get $op) (i32.const 3))
      (then
        (call $read (global.get $h) (i64.const 1) (i32.const 64))
        (if (i32.load8_u (i32.const 64))
          (then (return (i64.sub (i64.const -1) (i64.load8_u (i32.const 68))))))
        (return (i64.load8_u (i32.load (i32.const 68))))))
    (if (i32.eq (local.get $op) (i32.const 4))
      (then
        (call $note (i32.const 112) (i32.const 7) (global.get $h))
        (call $drop (global.get $h))
        (return (i64.const 0))))
    unreachable)
)
