;; Opens an input stream and an output stream, subscribes to the input stream,
;; then drops the input stream's index with the output stream's drop (two
;; variables mixed up) while its pollable is still alive.
(module
  (import "handle-compat:io/host@0.1.0" "open-input" (func $open_input (param i32 i32) (result i32)))
  (import "handle-compat:io/host@0.1.0" "open-output" (func $open_output (result i32)))
  (import "handle-compat:io/streams@0.1.0" "[method]input-stream.subscribe" (func $subscribe (param i32) (result i32)))
  (import "handle-compat:io/streams@0.1.0" "[method]pollable.ready" (func $ready (param i32) (result i32)))
  (import "handle-compat:io/streams@0.1.0" "[resource-drop]output-stream" (func $drop_output (param i32)))
  (import "handle-compat:io/probe@0.1.0" "emit" (func $emit (param i32 i32 i64)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (global $in (mut i32) (i32.const 0))
  (global $out (mut i32) (i32.const 0))
  (global $pollable (mut i32) (i32.const 0))
  (data (i32.const 16) "hello")
  (data (i32.const 128) "handle")
  (data (i32.const 144) "dropped")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
    (global.set $heap (i32.add (local.get $ptr) (local.get 3)))
    (local.get $ptr))
  (func $emit_h (param $tag i32) (param $len i32) (param $h i32)
    (call $emit (local.get $tag) (local.get $len) (i64.extend_i32_u (local.get $h))))
  ;; op 1: open an input stream over "hello" and an output stream, subscribe
  ;;       to the input stream; returns whether the pollable is ready.
  ;; op 2: drop the input stream's index as an output stream.
  (func (export "handle-compat:io/driver@0.1.0#run") (param $op i32) (param $arg i64) (result i64)
    (if (i32.eq (local.get $op) (i32.const 1))
      (then
        (global.set $in (call $open_input (i32.const 16) (i32.const 5)))
        (call $emit_h (i32.const 128) (i32.const 6) (global.get $in))
        (global.set $out (call $open_output))
        (call $emit_h (i32.const 128) (i32.const 6) (global.get $out))
        (global.set $pollable (call $subscribe (global.get $in)))
        (call $emit_h (i32.const 128) (i32.const 6) (global.get $pollable))
        (return (i64.extend_i32_u (call $ready (global.get $pollable))))))
    (if (i32.eq (local.get $op) (i32.const 2))
      (then
        (call $emit_h (i32.const 144) (i32.const 7) (global.get $in))
        (call $drop_output (global.get $in))
        (return (i64.const 0))))
    unreachable)
)
