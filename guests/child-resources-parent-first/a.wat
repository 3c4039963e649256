;; Subscribes to a stream, polls the pollable, then drops the stream while the
;; pollable (its child) is still alive.
(module
  (import "handle-compat:io/host@0.1.0" "open-input" (func $open_input (param i32 i32) (result i32)))
  (import "handle-compat:io/streams@0.1.0" "[method]input-stream.read" (func $read (param i32 i64 i32)))
  (import "handle-compat:io/streams@0.1.0" "[method]input-stream.subscribe" (func $subscribe (param i32) (result i32)))
  (import "handle-compat:io/streams@0.1.0" "[method]pollable.ready" (func $ready (param i32) (result i32)))
  (import "handle-compat:io/streams@0.1.0" "[resource-drop]input-stream" (func $drop_stream (param i32)))
  (import "handle-compat:io/streams@0.1.0" "[resource-drop]pollable" (func $drop_pollable (param i32)))
  (import "handle-compat:io/probe@0.1.0" "emit" (func $emit (param i32 i32 i64)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (global $stream (mut i32) (i32.const 0))
  (global $pollable (mut i32) (i32.const 0))
  (data (i32.const 16) "hello")
  (data (i32.const 32) "handle")
  (data (i32.const 48) "dropped")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
    (global.set $heap (i32.add (local.get $ptr) (local.get 3)))
    (local.get $ptr))
  ;; read: tag at 64, list len at 72, error enum at 68.
  ;; Bytes read, -1 for `ended`, -2 for `closed`.
  (func $read_len (param $h i32) (param $len i64) (result i64)
    (call $read (local.get $h) (local.get $len) (i32.const 64))
    (if (result i64) (i32.load8_u (i32.const 64))
      (then (i64.sub (i64.const -1) (i64.load8_u (i32.const 68))))
      (else (i64.extend_i32_u (i32.load (i32.const 72))))))
  ;; op 1: open a stream over "hello" and subscribe to it; returns ready (0 or 1).
  ;; op 2: read up to `arg` bytes from the stream; returns the count.
  ;; op 3: drop the stream (returns 0).
  ;; op 4: drop the pollable (returns 0).
  ;; op 5: ask the pollable again; returns ready.
  (func (export "handle-compat:io/driver@0.1.0#run") (param $op i32) (param $arg i64) (result i64)
    (if (i32.eq (local.get $op) (i32.const 1))
      (then
        (global.set $stream (call $open_input (i32.const 16) (i32.const 5)))
        (call $emit (i32.const 32) (i32.const 6) (i64.extend_i32_u (global.get $stream)))
        (global.set $pollable (call $subscribe (global.get $stream)))
        (call $emit (i32.const 32) (i32.const 6) (i64.extend_i32_u (global.get $pollable)))
        (return (i64.extend_i32_u (call $ready (global.get $pollable))))))
    (if (i32.eq (local.get $op) (i32.const 2))
      (then (return (call $read_len (global.get $stream) (local.get $arg)))))
    (if (i32.eq (local.get $op) (i32.const 3))
      (then
        (call $emit (i32.const 48) (i32.const 7) (i64.extend_i32_u (global.get $stream)))
        (call $drop_stream (global.get $stream))
        (return (i64.const 0))))
    (if (i32.eq (local.get $op) (i32.const 4))
      (then
        (call $emit (i32.const 48) (i32.const 7) (i64.extend_i32_u (global.get $pollable)))
        (call $drop_pollable (global.get $pollable))
        (return (i64.const 0))))
    (if (i32.eq (local.get $op) (i32.const 5))
      (then (return (i64.extend_i32_u (call $ready (global.get $pollable))))))
    unreachable)
)
