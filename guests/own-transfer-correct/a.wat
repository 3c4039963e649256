;; Opens a stream, gives it to component b as `own` and never touches that
;; index again; later opens, reads and drops a stream of its own.
(module
  (import "handle-compat:io/host@0.1.0" "open-input" (func $open_input (param i32 i32) (result i32)))
  (import "handle-compat:io/streams@0.1.0" "[method]input-stream.read" (func $read (param i32 i64 i32)))
  (import "handle-compat:io/streams@0.1.0" "[resource-drop]input-stream" (func $drop (param i32)))
  (import "handle-compat:io/peer@0.1.0" "take" (func $take (param i32) (result i64)))
  (import "handle-compat:io/probe@0.1.0" "emit" (func $emit (param i32 i32 i64)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (data (i32.const 16) "hello")
  (data (i32.const 32) "handle")
  (data (i32.const 48) "gave-own")
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
  ;; op 1: open a stream over "hello" and give it to b; returns what b read.
  ;;       The index is forgotten at once: it is b's stream now.
  ;; op 2: open another stream over "hello", read up to 10 bytes, drop it;
  ;;       returns the count.
  (func (export "handle-compat:io/driver@0.1.0#run") (param $op i32) (param $arg i64) (result i64)
    (local $h i32) (local $n i64)
    (if (i32.eq (local.get $op) (i32.const 1))
      (then
        (local.set $h (call $open_input (i32.const 16) (i32.const 5)))
        (call $emit (i32.const 32) (i32.const 6) (i64.extend_i32_u (local.get $h)))
        (call $emit (i32.const 48) (i32.const 8) (i64.extend_i32_u (local.get $h)))
        (return (call $take (local.get $h)))))
    (if (i32.eq (local.get $op) (i32.const 2))
      (then
        (local.set $h (call $open_input (i32.const 16) (i32.const 5)))
        (local.set $n (call $read_len (local.get $h) (i64.const 10)))
        (call $drop (local.get $h))
        (return (local.get $n))))
    unreachable)
)
