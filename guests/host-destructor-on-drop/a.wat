;; Shows when host destructors run: a pollable and then its stream are dropped
;; in one call (the stream's drop only succeeds if the pollable's destructor
;; already ran), and a stream given to b is destroyed when b drops it.
(module
  (import "handle-compat:io/host@0.1.0" "open-input" (func $open_input (param i32 i32) (result i32)))
  (import "handle-compat:io/streams@0.1.0" "[method]input-stream.subscribe" (func $subscribe (param i32) (result i32)))
  (import "handle-compat:io/streams@0.1.0" "[method]pollable.ready" (func $ready (param i32) (result i32)))
  (import "handle-compat:io/streams@0.1.0" "[resource-drop]input-stream" (func $drop_stream (param i32)))
  (import "handle-compat:io/streams@0.1.0" "[resource-drop]pollable" (func $drop_pollable (param i32)))
  (import "handle-compat:io/peer@0.1.0" "take" (func $take (param i32) (result i64)))
  (import "handle-compat:io/probe@0.1.0" "emit" (func $emit (param i32 i32 i64)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (global $stream (mut i32) (i32.const 0))
  (global $pollable (mut i32) (i32.const 0))
  (data (i32.const 16) "hello")
  (data (i32.const 32) "handle")
  (data (i32.const 48) "dropped")
  (data (i32.const 64) "gave-own")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
    (global.set $heap (i32.add (local.get $ptr) (local.get 3)))
    (local.get $ptr))
  (func $note (param $tag i32) (param $len i32) (param $h i32)
    (call $emit (local.get $tag) (local.get $len) (i64.extend_i32_u (local.get $h))))
  ;; op 1: open a stream over "hello" and subscribe to it; returns ready (0 or 1).
  ;; op 2: drop the pollable, then the stream, in this one call (returns 0).
  ;; op 3: open another stream over "hello" and give it to b (take); returns
  ;;       what b read. The index is forgotten.
  (func (export "handle-compat:io/driver@0.1.0#run") (param $op i32) (param $arg i64) (result i64)
    (local $h i32)
    (if (i32.eq (local.get $op) (i32.const 1))
      (then
        (global.set $stream (call $open_input (i32.const 16) (i32.const 5)))
        (call $note (i32.const 32) (i32.const 6) (global.get $stream))
        (global.set $pollable (call $subscribe (global.get $stream)))
        (call $note (i32.const 32) (i32.const 6) (global.get $pollable))
        (return (i64.extend_i32_u (call $ready (global.get $pollable))))))
    (if (i32.eq (local.get $op) (i32.const 2))
      (then
        (call $note (i32.const 48) (i32.const 7) (global.get $pollable))
        (call $drop_pollable (global.get $pollable))
        (call $note (i32.const 48) (i32.const 7) (global.get $stream))
        (call $drop_stream (global.get $stream))
        (return (i64.const 0))))
    (if (i32.eq (local.get $op) (i32.const 3))
      (then
        (local.set $h (call $open_input (i32.const 16) (i32.const 5)))
        (call $note (i32.const 32) (i32.const 6) (local.get $h))
        (call $note (i32.const 64) (i32.const 8) (local.get $h))
        (return (call $take (local.get $h)))))
    unreachable)
)
