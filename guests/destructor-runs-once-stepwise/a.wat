;; Holds three input streams and drops them one step at a time, reading from
;; the others in between.
(module
  (import "handle-compat:io/host@0.1.0" "open-input" (func $open_input (param i32 i32) (result i32)))
  (import "handle-compat:io/streams@0.1.0" "[method]input-stream.read" (func $read (param i32 i64 i32)))
  (import "handle-compat:io/streams@0.1.0" "[resource-drop]input-stream" (func $drop (param i32)))
  (import "handle-compat:io/probe@0.1.0" "emit" (func $emit (param i32 i32 i64)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (data (i32.const 16) "abc")
  (data (i32.const 32) "handle")
  (data (i32.const 40) "dropped")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
    (global.set $heap (i32.add (local.get $ptr) (local.get 3)))
    (local.get $ptr))
  ;; Handle of stream slot k (0..2), kept at 256 + 4k.
  (func $slot (param $k i64) (result i32)
    (i32.add (i32.const 256) (i32.shl (i32.wrap_i64 (local.get $k)) (i32.const 2))))
  ;; read: result<list<u8>, stream-error> at 64: tag at 64, list ptr at 68, len
  ;; at 72. Returns the byte read, -1 for `ended`, -2 for `closed`, or 0 when
  ;; no byte came back.
  (func $read_byte (param $h i32) (result i64)
    (call $read (local.get $h) (i64.const 1) (i32.const 64))
    (if (i32.load8_u (i32.const 64))
      (then (return (i64.sub (i64.const -1) (i64.load8_u (i32.const 68))))))
    (if (result i64) (i32.load (i32.const 72))
      (then (i64.load8_u (i32.load (i32.const 68))))
      (else (i64.const 0))))
  ;; op 1: open three streams: slot k over the (k+1)th letter onwards of "abc",
  ;;       so slot 0 starts with 'a', slot 1 with 'b', slot 2 with 'c'. Returns 3.
  ;; op 2: drop slot `arg` (returns 0).
  ;; op 3: read 1 byte from slot `arg`; returns the byte.
  (func (export "handle-compat:io/driver@0.1.0#run") (param $op i32) (param $arg i64) (result i64)
    (local $k i32) (local $h i32)
    (if (i32.eq (local.get $op) (i32.const 1))
      (then
        (block $done
          (loop $open
            (br_if $done (i32.ge_u (local.get $k) (i32.const 3)))
            (local.set $h (call $open_input (i32.add (i32.const 16) (local.get $k)) (i32.sub (i32.const 3) (local.get $k))))
            (call $emit (i32.const 32) (i32.const 6) (i64.extend_i32_u (local.get $h)))
            (i32.store (call $slot (i64.extend_i32_u (local.get $k))) (local.get $h))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $open)))
        (return (i64.const 3))))
    (if (i32.eq (local.get $op) (i32.const 2))
      (then
        (local.set $h (i32.load (call $slot (local.get $arg))))
        (call $emit (i32.const 40) (i32.const 7) (i64.extend_i32_u (local.get $h)))
        (call $drop (local.get $h))
        (return (i64.const 0))))
    (if (i32.eq (local.get $op) (i32.const 3))
      (then (return (call $read_byte (i32.load (call $slot (local.get $arg)))))))
    unreachable)
)
