;; Subscribes to an input and an output stream, drops each pollable before its
;; stream, and keeps using each stream between the two drops.
(module
  (import "handle-compat:io/host@0.1.0" "open-input" (func $open_input (param i32 i32) (result i32)))
  (import "handle-compat:io/host@0.1.0" "open-output" (func $open_output (result i32)))
  (import "handle-compat:io/streams@0.1.0" "[method]input-stream.read" (func $read (param i32 i64 i32)))
  (import "handle-compat:io/streams@0.1.0" "[method]input-stream.subscribe" (func $subscribe_in (param i32) (result i32)))
  (import "handle-compat:io/streams@0.1.0" "[method]output-stream.write" (func $write (param i32 i32 i32 i32)))
  (import "handle-compat:io/streams@0.1.0" "[method]output-stream.subscribe" (func $subscribe_out (param i32) (result i32)))
  (import "handle-compat:io/streams@0.1.0" "[method]pollable.ready" (func $ready (param i32) (result i32)))
  (import "handle-compat:io/streams@0.1.0" "[resource-drop]input-stream" (func $drop_in (param i32)))
  (import "handle-compat:io/streams@0.1.0" "[resource-drop]output-stream" (func $drop_out (param i32)))
  (import "handle-compat:io/streams@0.1.0" "[resource-drop]pollable" (func $drop_pollable (param i32)))
  (import "handle-compat:io/probe@0.1.0" "emit" (func $emit (param i32 i32 i64)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (global $in (mut i32) (i32.const 0))
  (global $in_poll (mut i32) (i32.const 0))
  (global $out (mut i32) (i32.const 0))
  (global $out_poll (mut i32) (i32.const 0))
  (data (i32.const 16) "hello")
  (data (i32.const 32) "handle")
  (data (i32.const 48) "dropped")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
    (global.set $heap (i32.add (local.get $ptr) (local.get 3)))
    (local.get $ptr))
  (func $note (param $tag i32) (param $len i32) (param $h i32)
    (call $emit (local.get $tag) (local.get $len) (i64.extend_i32_u (local.get $h))))
  ;; op 1: open an input stream over "hello", subscribe; returns ready (0 or 1).
  ;; op 2: open an output stream, subscribe; returns ready.
  ;; op 3: read up to `arg` bytes from the input stream: the count, -1 `ended`,
  ;;       -2 `closed` (result at 64: tag, list ptr at 68 / len at 72, error at 68).
  ;; op 4: drop the input stream's pollable.   op 5: drop the input stream.
  ;; op 6: drop the output stream's pollable.  op 7: drop the output stream.
  ;; op 8: write the first `arg` bytes of "hello": the count, -1, -2
  ;;       (result at 80: tag, u64 or error at 88).
  (func (export "handle-compat:io/driver@0.1.0#run") (param $op i32) (param $arg i64) (result i64)
    (if (i32.eq (local.get $op) (i32.const 1))
      (then
        (global.set $in (call $open_input (i32.const 16) (i32.const 5)))
        (call $note (i32.const 32) (i32.const 6) (global.get $in))
        (global.set $in_poll (call $subscribe_in (global.get $in)))
        (call $note (i32.const 32) (i32.const 6) (global.get $in_poll))
        (return (i64.extend_i32_u (call $ready (global.get $in_poll))))))
    (if (i32.eq (local.get $op) (i32.const 2))
      (then
        (global.set $out (call $open_output))
        (call $note (i32.const 32) (i32.const 6) (global.get $out))
        (global.set $out_poll (call $subscribe_out (global.get $out)))
        (call $note (i32.const 32) (i32.const 6) (global.get $out_poll))
        (return (i64.extend_i32_u (call $ready (global.get $out_poll))))))
    (if (i32.eq (local.get $op) (i32.const 3))
      (then
        (call $read (global.get $in) (local.get $arg) (i32.const 64))
        (return
          (if (result i64) (i32.load8_u (i32.const 64))
            (then (i64.sub (i64.const -1) (i64.load8_u (i32.const 68))))
            (else (i64.extend_i32_u (i32.load (i32.const 72))))))))
    (if (i32.eq (local.get $op) (i32.const 4))
      (then
        (call $note (i32.const 48) (i32.const 7) (global.get $in_poll))
        (call $drop_pollable (global.get $in_poll))
        (return (i64.const 0))))
    (if (i32.eq (local.get $op) (i32.const 5))
      (then
        (call $note (i32.const 48) (i32.const 7) (global.get $in))
        (call $drop_in (global.get $in))
        (return (i64.const 0))))
    (if (i32.eq (local.get $op) (i32.const 6))
      (then
        (call $note (i32.const 48) (i32.const 7) (global.get $out_poll))
        (call $drop_pollable (global.get $out_poll))
        (return (i64.const 0))))
    (if (i32.eq (local.get $op) (i32.const 7))
      (then
        (call $note (i32.const 48) (i32.const 7) (global.get $out))
        (call $drop_out (global.get $out))
        (return (i64.const 0))))
    (if (i32.eq (local.get $op) (i32.const 8))
      (then
        (call $write (global.get $out) (i32.const 16) (i32.wrap_i64 (local.get $arg)) (i32.const 80))
        (return
          (if (result i64) (i32.load8_u (i32.const 80))
            (then (i64.sub (i64.const -1) (i64.load8_u (i32.const 88))))
            (else (i64.load (i32.const 88)))))))
    unreachable)
)
