;; A guest whose allocator grows memory without bound. Like a real allocator
;; it checks memory.grow and, when the grow is refused (-1), reports it and
;; aborts: out-of-memory through the probe, then `unreachable`.
(module
  (import "handle-compat:io/probe@0.1.0" "emit" (func $emit (param i32 i32 i64)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (data (i32.const 16) "out-of-memory")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
    (global.set $heap (i32.add (local.get $ptr) (local.get 3)))
    (local.get $ptr))
  ;; Grows by `pages` 64 KiB pages and touches the last byte; aborts if refused.
  (func $grow (param $pages i32)
    (if (i32.eq (memory.grow (local.get $pages)) (i32.const -1))
      (then
        (call $emit (i32.const 16) (i32.const 13) (i64.extend_i32_u (memory.size)))
        unreachable))
    (i32.store8 (i32.sub (i32.mul (memory.size) (i32.const 65536)) (i32.const 1)) (i32.const 1)))
  ;; op 1: grow by `arg` pages; returns the memory size in pages.
  ;; op 2: grow by 1 MiB at a time, forever.
  ;; op 3: returns the memory size in pages.
  (func (export "handle-compat:io/driver@0.1.0#run") (param $op i32) (param $arg i64) (result i64)
    (if (i32.eq (local.get $op) (i32.const 1))
      (then
        (call $grow (i32.wrap_i64 (local.get $arg)))
        (return (i64.extend_i32_u (memory.size)))))
    (if (i32.eq (local.get $op) (i32.const 2))
      (then
        (loop $more
          (call $grow (i32.const 16))
          (br $more))))
    (if (i32.eq (local.get $op) (i32.const 3))
      (then (return (i64.extend_i32_u (memory.size)))))
    unreachable)
)
