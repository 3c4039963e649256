;; Writes to an output stream, flushes, closes it and writes and flushes again.
;; Results are returned as values that say what the guest saw:
;;   n >= 0  bytes the stream took (write) or 0 (flush ok),
;;   -1      stream-error `ended`,
;;   -2      stream-error `closed`
;; (-1 - the enum's case number).
(module
  (import "handle-compat:io/host@0.1.0" "open-output" (func $open_output (result i32)))
  (import "handle-compat:io/streams@0.1.0" "[method]output-stream.write" (func $write (param i32 i32 i32 i32)))
  (import "handle-compat:io/streams@0.1.0" "[method]output-stream.flush" (func $flush (param i32 i32)))
  (import "handle-compat:io/streams@0.1.0" "[method]output-stream.close" (func $close (param i32)))
  (import "handle-compat:io/streams@0.1.0" "[resource-drop]output-stream" (func $drop (param i32)))
  (import "handle-compat:io/probe@0.1.0" "emit" (func $emit (param i32 i32 i64)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (global $h (mut i32) (i32.const 0))
  (data (i32.const 16) "hello world")
  (data (i32.const 32) "handle")
  (data (i32.const 40) "dropped")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
    (global.set $heap (i32.add (local.get $ptr) (local.get 3)))
    (local.get $ptr))
  ;; write: result<u64, stream-error> at 64 (payload aligned to 8):
  ;; tag u8 at 64; ok: u64 at 72; error: enum u8 at 72.
  (func $write_res (param $h i32) (param $len i32) (result i64)
    (call $write (local.get $h) (i32.const 16) (local.get $len) (i32.const 64))
    (if (result i64) (i32.load8_u (i32.const 64))
      (then (i64.sub (i64.const -1) (i64.load8_u (i32.const 72))))
      (else (i64.load (i32.const 72)))))
  ;; flush: result<_, stream-error> at 96 (payload aligned to 1):
  ;; tag u8 at 96; error: enum u8 at 97.
  (func $flush_res (param $h i32) (result i64)
    (call $flush (local.get $h) (i32.const 96))
    (if (result i64) (i32.load8_u (i32.const 96))
      (then (i64.sub (i64.const -1) (i64.load8_u (i32.const 97))))
      (else (i64.const 0))))
  ;; op 1: open an output stream and write the first `arg` bytes of "hello world".
  ;; op 2: write the first `arg` bytes.   op 3: flush.
  ;; op 4: close (returns 0).   op 5: drop (returns 0).
  (func (export "handle-compat:io/driver@0.1.0#run") (param $op i32) (param $arg i64) (result i64)
    (if (i32.eq (local.get $op) (i32.const 1))
      (then
        (global.set $h (call $open_output))
        (call $emit (i32.const 32) (i32.const 6) (i64.extend_i32_u (global.get $h)))
        (return (call $write_res (global.get $h) (i32.wrap_i64 (local.get $arg))))))
    (if (i32.eq (local.get $op) (i32.const 2))
      (then (return (call $write_res (global.get $h) (i32.wrap_i64 (local.get $arg))))))
    (if (i32.eq (local.get $op) (i32.const 3))
      (then (return (call $flush_res (global.get $h)))))
    (if (i32.eq (local.get $op) (i32.const 4))
      (then (call $close (global.get $h)) (return (i64.const 0))))
    (if (i32.eq (local.get $op) (i32.const 5))
      (then
        (call $emit (i32.const 40) (i32.const 7) (i64.extend_i32_u (global.get $h)))
        (call $drop (global.get $h))
        (return (i64.const 0))))
    unreachable)
)
