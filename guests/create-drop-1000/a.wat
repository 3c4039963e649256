;; Opens and drops a stream `arg` times in one call, reading its one byte each
;; time. Returns the number of cycles in which the read gave back exactly that byte.
(module
  (import "handle-compat:io/host@0.1.0" "open-input" (func $open_input (param i32 i32) (result i32)))
  (import "handle-compat:io/streams@0.1.0" "[method]input-stream.read" (func $read (param i32 i64 i32)))
  (import "handle-compat:io/streams@0.1.0" "[resource-drop]input-stream" (func $drop (param i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (data (i32.const 16) "x")
  ;; Lists the host writes come from this bump allocator; each call starts it over.
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
    (global.set $heap (i32.add (local.get $ptr) (local.get 3)))
    (local.get $ptr))
  ;; op 1: `arg` cycles of open over "x" / read 1 byte / drop.
  ;; read: result<list<u8>, stream-error> at 64: tag at 64, list ptr at 68, len at 72.
  (func (export "handle-compat:io/driver@0.1.0#run") (param $op i32) (param $arg i64) (result i64)
    (local $i i64) (local $ok i64) (local $h i32)
    (if (i32.ne (local.get $op) (i32.const 1)) (then unreachable))
    (block $done
      (loop $cycle
        (br_if $done (i64.ge_u (local.get $i) (local.get $arg)))
        (global.set $heap (i32.const 1024))
        (local.set $h (call $open_input (i32.const 16) (i32.const 1)))
        (call $read (local.get $h) (i64.const 1) (i32.const 64))
        (if (i32.and (i32.eqz (i32.load8_u (i32.const 64)))
                     (i32.and (i32.eq (i32.load (i32.const 72)) (i32.const 1))
                              (i32.eq (i32.load8_u (i32.load (i32.const 68))) (i32.const 120))))
          (then (local.set $ok (i64.add (local.get $ok) (i64.const 1)))))
        (call $drop (local.get $h))
        (local.set $i (i64.add (local.get $i) (i64.const 1)))
        (br $cycle)))
    (local.get $ok))
)
