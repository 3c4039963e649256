;; Closes a stream when done with it but leaves its index in the variable;
;; opens and subscribes to a second stream; then a cleanup path closes the
;; first stream's variable again.
(module
  (import "handle-compat:io/host@0.1.0" "open-input" (func $open_input (param i32 i32) (result i32)))
  (import "handle-compat:io/streams@0.1.0" "[method]input-stream.read" (func $read (param i32 i64 i32)))
  (import "handle-compat:io/streams@0.1.0" "[method]input-stream.subscribe" (func $subscribe (param i32) (result i32)))
  (import "handle-compat:io/streams@0.1.0" "[method]pollable.ready" (func $ready (param i32) (result i32)))
  (import "handle-compat:io/streams@0.1.0" "[resource-drop]input-stream" (func $drop (param i32)))
  (import "handle-compat:io/probe@0.1.0" "emit" (func $emit (param i32 i32 i64)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (global $first (mut i32) (i32.const 0))
  (global $second (mut i32) (i32.const 0))
  (global $pollable (mut i32) (i32.const 0))
  (data (i32.const 16) "hello")
  (data (i32.const 24) "world")
  (data (i32.const 128) "handle")
  (data (i32.const 144) "dropped")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
    (global.set $heap (i32.add (local.get $ptr) (local.get 3)))
    (local.get $ptr))
  ;; Reads up to `len` bytes from handle `h`: bytes read, or -1 on a stream error.
  (func $read_len (param $h i32) (param $len i64) (result i64)
    (call $read (local.get $h) (local.get $len) (i32.const 64))
    (if (result i64) (i32.load8_u (i32.const 64))
      (then (i64.const -1))
      (else (i64.extend_i32_u (i32.load (i32.const 72))))))
  (func $emit_h (param $tag i32) (param $len i32) (param $h i32)
    (call $emit (local.get $tag) (local.get $len) (i64.extend_i32_u (local.get $h))))
  ;; op 1: open the first stream over "hello", read it all, close it (the
  ;;       variable keeps the index); returns the bytes read.
  ;; op 2: open the second stream over "world" and subscribe to it; returns ready.
  ;; op 3: cleanup: close the first stream's variable.
  (func (export "handle-compat:io/driver@0.1.0#run") (param $op i32) (param $arg i64) (result i64)
    (local $n i64)
    (if (i32.eq (local.get $op) (i32.const 1))
      (then
        (global.set $first (call $open_input (i32.const 16) (i32.const 5)))
        (call $emit_h (i32.const 128) (i32.const 6) (global.get $first))
        (local.set $n (call $read_len (global.get $first) (i64.const 10)))
        (call $emit_h (i32.const 144) (i32.const 7) (global.get $first))
        (call $drop (global.get $first))
        (return (local.get $n))))
    (if (i32.eq (local.get $op) (i32.const 2))
      (then
        (global.set $second (call $open_input (i32.const 24) (i32.const 5)))
        (call $emit_h (i32.const 128) (i32.const 6) (global.get $second))
        (global.set $pollable (call $subscribe (global.get $second)))
        (call $emit_h (i32.const 128) (i32.const 6) (global.get $pollable))
        (return (i64.extend_i32_u (call $ready (global.get $pollable))))))
    (if (i32.eq (local.get $op) (i32.const 3))
      (then
        (call $emit_h (i32.const 144) (i32.const 7) (global.get $first))
        (call $drop (global.get $first))
        (return (i64.const 0))))
    unreachable)
)
