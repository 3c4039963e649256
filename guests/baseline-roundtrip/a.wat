;; A guest that opens a stream over "hello", reads from it, writes to an
;; output stream and drops both: nothing here depends on how handles are numbered.
(module
  (import "handle-compat:io/host@0.1.0" "open-input" (func $open_input (param i32 i32) (result i32)))
  (import "handle-compat:io/host@0.1.0" "open-output" (func $open_output (result i32)))
  (import "handle-compat:io/streams@0.1.0" "[method]input-stream.read" (func $read (param i32 i64 i32)))
  (import "handle-compat:io/streams@0.1.0" "[method]output-stream.write" (func $write (param i32 i32 i32 i32)))
  (import "handle-compat:io/streams@0.1.0" "[resource-drop]input-stream" (func $drop_input (param i32)))
  (import "handle-compat:io/streams@0.1.0" "[resource-drop]output-stream" (func $drop_output (param i32)))
  (import "handle-compat:io/probe@0.1.0" "emit" (func $emit (param i32 i32 i64)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (data (i32.const 16) "hello")
  (data (i32.const 32) "read-len")
  ;; Bump allocator: the host writes lists into guest memory through it.
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
    (global.set $heap (i32.add (local.get $ptr) (local.get 3)))
    (local.get $ptr))
  ;; op 1: read `arg` bytes of "hello"; returns how many came back.
  ;; op 2: write "hello" to an output stream; returns how many bytes it took.
  (func (export "handle-compat:io/driver@0.1.0#run") (param $op i32) (param $arg i64) (result i64)
    (local $h i32) (local $n i64)
    (if (i32.eq (local.get $op) (i32.const 1))
      (then
        (local.set $h (call $open_input (i32.const 16) (i32.const 5)))
        (call $read (local.get $h) (local.get $arg) (i32.const 64))
        ;; result<list<u8>, stream-error> at 64: tag, then (ptr, len) at 68.
        (local.set $n (i64.extend_i32_u (i32.load (i32.const 72))))
        (call $emit (i32.const 32) (i32.const 8) (local.get $n))
        (call $drop_input (local.get $h))
        (return (local.get $n))))
    (if (i32.eq (local.get $op) (i32.const 2))
      (then
        (local.set $h (call $open_output))
        (call $write (local.get $h) (i32.const 16) (i32.const 5) (i32.const 64))
        (local.set $n (i64.load (i32.const 72)))
        (call $drop_output (local.get $h))
        (return (local.get $n))))
    unreachable)
)
