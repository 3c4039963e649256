;; Opens a stream and tells b its index in a plain u32 (peer.poke), as
;; components sharing pseudo-handles did.
(module
  (import "handle-compat:io/host@0.1.0" "open-input" (func $open_input (param i32 i32) (result i32)))
  (import "handle-compat:io/streams@0.1.0" "[method]input-stream.read" (func $read (param i32 i64 i32)))
  (import "handle-compat:io/peer@0.1.0" "poke" (func $poke (param i32) (result i64)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (global $h (mut i32) (i32.const 0))
  (data (i32.const 16) "hello")
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
  ;; op 1: open a stream over "hello" and send its index to b's poke; returns what poke returns.
  ;; op 2: read up to `arg` bytes from the stream.
  (func (export "handle-compat:io/driver@0.1.0#run") (param $op i32) (param $arg i64) (result i64)
    (if (i32.eq (local.get $op) (i32.const 1))
      (then
        (global.set $h (call $open_input (i32.const 16) (i32.const 5)))
        (return (call $poke (global.get $h)))))
    (if (i32.eq (local.get $op) (i32.const 2))
      (then (return (call $read_len (global.get $h) (local.get $arg)))))
    unreachable)
)
