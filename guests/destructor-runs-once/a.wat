;; Opens several input and output streams, uses each once and drops them all
;; within one call. Returns how many streams it dropped.
(module
  (import "handle-compat:io/host@0.1.0" "open-input" (func $open_input (param i32 i32) (result i32)))
  (import "handle-compat:io/host@0.1.0" "open-output" (func $open_output (result i32)))
  (import "handle-compat:io/streams@0.1.0" "[method]input-stream.read" (func $read (param i32 i64 i32)))
  (import "handle-compat:io/streams@0.1.0" "[method]output-stream.write" (func $write (param i32 i32 i32 i32)))
  (import "handle-compat:io/streams@0.1.0" "[resource-drop]input-stream" (func $drop_input (param i32)))
  (import "handle-compat:io/streams@0.1.0" "[resource-drop]output-stream" (func $drop_output (param i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 4096))
  (data (i32.const 16) "hello")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
    (global.set $heap (i32.add (local.get $ptr) (local.get 3)))
    (local.get $ptr))
  ;; op 1: open `arg` input streams (handles kept at 256 + 4i) and `arg` output
  ;; streams (at 1024 + 4i); read 1 byte from / write 1 byte to each; then drop
  ;; the outputs and the inputs, newest first. Returns the number of drops, or
  ;; traps (unreachable) if a read or write did not take exactly 1 byte.
  (func (export "handle-compat:io/driver@0.1.0#run") (param $op i32) (param $arg i64) (result i64)
    (local $n i32) (local $i i32) (local $dropped i64)
    (if (i32.ne (local.get $op) (i32.const 1)) (then unreachable))
    (local.set $n (i32.wrap_i64 (local.get $arg)))
    (local.set $i (i32.const 0))
    (block $done
      (loop $open
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (i32.store (i32.add (i32.const 256) (i32.shl (local.get $i) (i32.const 2)))
                   (call $open_input (i32.const 16) (i32.const 5)))
        (i32.store (i32.add (i32.const 1024) (i32.shl (local.get $i) (i32.const 2)))
                   (call $open_output))
        ;; read: tag at 64, list len at 72
        (call $read (i32.load (i32.add (i32.const 256) (i32.shl (local.get $i) (i32.const 2)))) (i64.const 1) (i32.const 64))
        (if (i32.or (i32.load8_u (i32.const 64)) (i32.ne (i32.load (i32.const 72)) (i32.const 1))) (then unreachable))
        ;; write: tag at 80, u64 at 88
        (call $write (i32.load (i32.add (i32.const 1024) (i32.shl (local.get $i) (i32.const 2)))) (i32.const 16) (i32.const 1) (i32.const 80))
        (if (i32.or (i32.load8_u (i32.const 80)) (i64.ne (i64.load (i32.const 88)) (i64.const 1))) (then unreachable))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $open)))
    (block $done
      (loop $drop
        (br_if $done (i32.eqz (local.get $i)))
        (local.set $i (i32.sub (local.get $i) (i32.const 1)))
        (call $drop_output (i32.load (i32.add (i32.const 1024) (i32.shl (local.get $i) (i32.const 2)))))
        (call $drop_input (i32.load (i32.add (i32.const 256) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $dropped (i64.add (local.get $dropped) (i64.const 2)))
        (br $drop)))
    (local.get $dropped))
)
