;; Keeps one stream in a variable where 0 means "no stream yet", opens it
;; lazily, and (preview-1 habit) takes index 3 to mean "the first stream opened".
(module
  (import "handle-compat:io/host@0.1.0" "open-input" (func $open_input (param i32 i32) (result i32)))
  (import "handle-compat:io/host@0.1.0" "open-output" (func $open_output (result i32)))
  (import "handle-compat:io/streams@0.1.0" "[method]input-stream.read" (func $read (param i32 i64 i32)))
  (import "handle-compat:io/streams@0.1.0" "[resource-drop]input-stream" (func $drop (param i32)))
  (import "handle-compat:io/probe@0.1.0" "emit" (func $emit (param i32 i32 i64)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (global $stream (mut i32) (i32.const 0))
  (data (i32.const 16) "hello")
  (data (i32.const 128) "handle")
  (data (i32.const 144) "dropped")
  (data (i32.const 160) "zero")
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
  ;; op 1: open the stream unless the variable already holds one (non-zero);
  ;;       returns 1 if it opened one, 0 if it had one.
  ;; op 2: is the stream "the first one opened", index 3 (0-2 being stdio)? 1 or 0.
  ;; op 3: drop the stream and set the variable back to 0.
  ;; op 4: read 1 byte through the variable without checking it.
  (func (export "handle-compat:io/driver@0.1.0#run") (param $op i32) (param $arg i64) (result i64)
    (if (i32.eq (local.get $op) (i32.const 1))
      (then
        (call $emit_h (i32.const 160) (i32.const 4) (global.get $stream))
        (if (i32.eqz (global.get $stream))
          (then
            (global.set $stream (call $open_input (i32.const 16) (i32.const 5)))
            (call $emit_h (i32.const 128) (i32.const 6) (global.get $stream))
            (return (i64.const 1))))
        (return (i64.const 0))))
    (if (i32.eq (local.get $op) (i32.const 2))
      (then
        (call $emit_h (i32.const 128) (i32.const 6) (global.get $stream))
        (return (i64.extend_i32_u (i32.eq (global.get $stream) (i32.const 3))))))
    (if (i32.eq (local.get $op) (i32.const 3))
      (then
        (call $emit_h (i32.const 144) (i32.const 7) (global.get $stream))
        (call $drop (global.get $stream))
        (global.set $stream (i32.const 0))
        (return (i64.const 0))))
    (if (i32.eq (local.get $op) (i32.const 4))
      (then
        (call $emit_h (i32.const 128) (i32.const 6) (global.get $stream))
        (return (call $read_len (global.get $stream) (i64.const 1)))))
    unreachable)
)
