;; Records the value of every handle it opens, and at cleanup closes only the
;; handles whose value it recorded: anything else it holds is taken to belong
;; to whoever created it.
(module
  (import "handle-compat:io/host@0.1.0" "open-input" (func $open_input (param i32 i32) (result i32)))
  (import "handle-compat:io/host@0.1.0" "open-output" (func $open_output (result i32)))
  (import "handle-compat:io/streams@0.1.0" "[method]input-stream.read" (func $read (param i32 i64 i32)))
  (import "handle-compat:io/streams@0.1.0" "[resource-drop]input-stream" (func $drop_in (param i32)))
  (import "handle-compat:io/streams@0.1.0" "[resource-drop]output-stream" (func $drop_out (param i32)))
  (import "handle-compat:io/peer@0.1.0" "take" (func $take (param i32) (result i64)))
  (import "handle-compat:io/peer@0.1.0" "hand-back" (func $hand_back (result i32)))
  (import "handle-compat:io/probe@0.1.0" "emit" (func $emit (param i32 i32 i64)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (global $out (mut i32) (i32.const 0))
  (global $back (mut i32) (i32.const 0))
  ;; Values of the handles a opened, at 256 + 4k, k < $created.
  (global $created (mut i32) (i32.const 0))
  (data (i32.const 16) "hello")
  (data (i32.const 128) "handle")
  (data (i32.const 144) "dropped")
  (data (i32.const 160) "gave-own")
  (data (i32.const 176) "received")
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
  (func $record (param $h i32)
    (i32.store (i32.add (i32.const 256) (i32.shl (global.get $created) (i32.const 2))) (local.get $h))
    (global.set $created (i32.add (global.get $created) (i32.const 1))))
  ;; Whether a handle with value `h` was opened by a (1) or not (0).
  (func $mine (param $h i32) (result i32)
    (local $k i32)
    (block $done
      (loop $scan
        (br_if $done (i32.ge_u (local.get $k) (global.get $created)))
        (if (i32.eq (i32.load (i32.add (i32.const 256) (i32.shl (local.get $k) (i32.const 2)))) (local.get $h))
          (then (return (i32.const 1))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $scan)))
    (i32.const 0))
  ;; op 1: open a stream over "hello" and give it to b to work on; returns what b read.
  ;; op 2: open an output stream for results.
  ;; op 3: get the stream back from b and read the rest of it; returns the bytes read.
  ;; op 4: cleanup: close each handle a holds if its value is one a recorded.
  (func (export "handle-compat:io/driver@0.1.0#run") (param $op i32) (param $arg i64) (result i64)
    (local $h i32)
    (if (i32.eq (local.get $op) (i32.const 1))
      (then
        (local.set $h (call $open_input (i32.const 16) (i32.const 5)))
        (call $record (local.get $h))
        (call $emit_h (i32.const 128) (i32.const 6) (local.get $h))
        (call $emit_h (i32.const 160) (i32.const 8) (local.get $h))
        (return (call $take (local.get $h)))))
    (if (i32.eq (local.get $op) (i32.const 2))
      (then
        (global.set $out (call $open_output))
        (call $record (global.get $out))
        (call $emit_h (i32.const 128) (i32.const 6) (global.get $out))
        (return (i64.const 0))))
    (if (i32.eq (local.get $op) (i32.const 3))
      (then
        (global.set $back (call $hand_back))
        (call $emit_h (i32.const 176) (i32.const 8) (global.get $back))
        (return (call $read_len (global.get $back) (i64.const 10)))))
    (if (i32.eq (local.get $op) (i32.const 4))
      (then
        (call $emit_h (i32.const 128) (i32.const 6) (global.get $out))
        (if (call $mine (global.get $out))
          (then
            (call $emit_h (i32.const 144) (i32.const 7) (global.get $out))
            (call $drop_out (global.get $out))))
        (call $emit_h (i32.const 128) (i32.const 6) (global.get $back))
        (if (call $mine (global.get $back))
          (then
            (call $emit_h (i32.const 144) (i32.const 7) (global.get $back))
            (call $drop_in (global.get $back))))
        (return (i64.const 0))))
    unreachable)
)
