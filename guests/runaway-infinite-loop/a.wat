;; A guest that opens a stream and reads from it, then spins forever waiting
;; for a flag nobody sets: the deadline must end that call and nothing else.
(module
  (import "handle-compat:io/host@0.1.0" "open-input" (func $open_input (param i32 i32) (result i32)))
  (import "handle-compat:io/streams@0.1.0" "[method]input-stream.read" (func $read (param i32 i64 i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (global $stream (mut i32) (i32.const 0))
  (global $flag (mut i32) (i32.const 0))
  (data (i32.const 16) "hello")
  ;; Bump allocator: the host writes lists into guest memory through it.
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
    (global.set $heap (i32.add (local.get $ptr) (local.get 3)))
    (local.get $ptr))
  ;; Reads `len` bytes from the kept stream; returns how many came back.
  (func $read_kept (param $len i64) (result i64)
    (call $read (global.get $stream) (local.get $len) (i32.const 64))
    ;; result<list<u8>, stream-error> at 64: tag, then (ptr, len) at 68.
    (i64.extend_i32_u (i32.load (i32.const 72))))
  ;; op 1: open a stream over "hello", keep it, read `arg` bytes.
  ;; op 2: wait until $flag is set; nothing ever sets it.
  ;; op 3: read `arg` more bytes from the kept stream.
  (func (export "handle-compat:io/driver@0.1.0#run") (param $op i32) (param $arg i64) (result i64)
    (if (i32.eq (local.get $op) (i32.const 1))
      (then
        (global.set $stream (call $open_input (i32.const 16) (i32.const 5)))
        (return (call $read_kept (local.get $arg)))))
    (if (i32.eq (local.get $op) (i32.const 2))
      (then
        (loop $wait
          (br_if $wait (i32.eqz (global.get $flag))))
        (return (i64.const 0))))
    (if (i32.eq (local.get $op) (i32.const 3))
      (then (return (call $read_kept (local.get $arg)))))
    unreachable)
)
