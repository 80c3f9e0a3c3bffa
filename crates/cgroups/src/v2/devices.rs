//! cgroup v2 device control: the rule list compiled to an eBPF program of
//! type BPF_PROG_TYPE_CGROUP_DEVICE and attached to the container's cgroup.
//!
//! Semantics follow cgroup v1's devices.allow/deny: rules apply in order from
//! an initial allow-all state, so the program checks them last-to-first and
//! the first match decides; no match allows.

use crate::{CgroupError, Result};
use hull_spec::DeviceCgroup;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

/// One eBPF instruction (`struct bpf_insn`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insn {
    code: u8,
    regs: u8,
    off: i16,
    imm: i32,
}

const fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
    Insn { code, regs: (src << 4) | dst, off, imm }
}

const LDX_W: u8 = 0x61; // BPF_LDX | BPF_MEM | BPF_W
const MOV64_X: u8 = 0xbf; // BPF_ALU64 | BPF_MOV | BPF_X
const MOV64_K: u8 = 0xb7; // BPF_ALU64 | BPF_MOV | BPF_K
const AND64_K: u8 = 0x57; // BPF_ALU64 | BPF_AND | BPF_K
const RSH64_K: u8 = 0x77; // BPF_ALU64 | BPF_RSH | BPF_K
const JNE_K: u8 = 0x55; // BPF_JMP | BPF_JNE | BPF_K
const EXIT: u8 = 0x95; // BPF_JMP | BPF_EXIT

fn access_bits(access: &str) -> i32 {
    access.chars().fold(0, |m, c| {
        m | match c {
            'm' => 1,
            'r' => 2,
            'w' => 4,
            _ => 0,
        }
    })
}

/// Compiles rules to the program's instructions.
pub fn compile(rules: &[DeviceCgroup]) -> Vec<Insn> {
    // r1 = ctx {u32 access_type; u32 major; u32 minor}; access_type = access << 16 | type.
    let mut prog = vec![
        insn(LDX_W, 2, 1, 0, 0),
        insn(MOV64_X, 3, 2, 0, 0),
        insn(AND64_K, 3, 0, 0, 0xffff),
        insn(RSH64_K, 2, 0, 0, 16),
        insn(LDX_W, 4, 1, 4, 0),
        insn(LDX_W, 5, 1, 8, 0),
    ];
    for r in rules.iter().rev() {
        let mut checks = Vec::new();
        match r.typ.as_deref().unwrap_or("a") {
            "c" => checks.push((3, 2)),
            "b" => checks.push((3, 1)),
            _ => {}
        }
        let mut block = Vec::new();
        let access = access_bits(r.access.as_deref().filter(|a| !a.is_empty()).unwrap_or("rwm"));
        // Requested access must be a subset of the rule's.
        block.push(insn(MOV64_X, 6, 2, 0, 0));
        block.push(insn(AND64_K, 6, 0, 0, !access & 7));
        checks.push((6, 0));
        if let Some(major) = r.major.filter(|m| *m >= 0) {
            checks.push((4, major as i32));
        }
        if let Some(minor) = r.minor.filter(|m| *m >= 0) {
            checks.push((5, minor as i32));
        }
        // Every check jumps past the verdict (mov + exit) when it fails.
        let verdict = [insn(MOV64_K, 0, 0, 0, i32::from(r.allow)), insn(EXIT, 0, 0, 0, 0)];
        let mut jumps: Vec<Insn> = Vec::new();
        let n = checks.len();
        for (i, (reg, value)) in checks.into_iter().enumerate() {
            let remaining_checks = (n - i - 1) as i16;
            jumps.push(insn(JNE_K, reg, 0, remaining_checks + verdict.len() as i16, value));
        }
        // The access mask computation precedes its check; keep the order: type check, mask, others.
        let (type_jump, rest): (Vec<Insn>, Vec<Insn>) = if r.typ.as_deref().is_some_and(|t| t == "c" || t == "b") {
            (jumps[..1].to_vec(), jumps[1..].to_vec())
        } else {
            (Vec::new(), jumps)
        };
        // The type jump must also skip the two mask instructions.
        for j in type_jump {
            prog.push(Insn { off: j.off + block.len() as i16, ..j });
        }
        prog.extend(block);
        prog.extend(rest);
        prog.extend(verdict);
    }
    prog.push(insn(MOV64_K, 0, 0, 0, 1));
    prog.push(insn(EXIT, 0, 0, 0, 0));
    prog
}

#[repr(C)]
#[derive(Default)]
struct ProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    prog_ifindex: u32,
    expected_attach_type: u32,
    pad: [u64; 8],
}

#[repr(C)]
#[derive(Default)]
struct ProgAttachAttr {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
    replace_bpf_fd: u32,
    pad: [u32; 11],
}

const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_PROG_ATTACH: libc::c_long = 8;
const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;
const BPF_F_ALLOW_MULTI: u32 = 2;

fn bpf_err(op: &'static str, dir: &Path) -> CgroupError {
    CgroupError::Io { op, path: dir.to_path_buf(), source: std::io::Error::last_os_error() }
}

/// Loads the program for `rules` and attaches it to the cgroup2 directory.
pub fn apply(dir: &Path, rules: &[DeviceCgroup]) -> Result<()> {
    let prog = compile(rules);
    let license = c"Apache-2.0";
    let mut name = [0u8; 16];
    name[..9].copy_from_slice(b"hull_devs");
    let load = ProgLoadAttr {
        prog_type: BPF_PROG_TYPE_CGROUP_DEVICE,
        insn_cnt: prog.len() as u32,
        insns: prog.as_ptr() as u64,
        license: license.as_ptr() as u64,
        prog_name: name,
        ..Default::default()
    };
    // SAFETY: `load` is a zero-padded bpf_attr whose pointers (insns,
    // license) stay valid for the duration of the call.
    let fd = unsafe {
        libc::syscall(libc::SYS_bpf, BPF_PROG_LOAD, &load as *const ProgLoadAttr, std::mem::size_of::<ProgLoadAttr>())
    };
    if fd < 0 {
        return Err(bpf_err("load device eBPF program for", dir));
    }
    // SAFETY: the kernel just returned this descriptor to us.
    let prog_fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    let cg = std::fs::File::open(dir).map_err(|source| CgroupError::Io { op: "open", path: dir.into(), source })?;
    let attach = ProgAttachAttr {
        target_fd: cg.as_raw_fd() as u32,
        attach_bpf_fd: prog_fd.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        attach_flags: BPF_F_ALLOW_MULTI,
        ..Default::default()
    };
    // SAFETY: `attach` is a zero-padded bpf_attr; both descriptors are open.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            BPF_PROG_ATTACH,
            &attach as *const ProgAttachAttr,
            std::mem::size_of::<ProgAttachAttr>(),
        )
    };
    if ret < 0 {
        return Err(bpf_err("attach device eBPF program to", dir));
    }
    // The attachment holds the program; our descriptors can close.
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny interpreter for the subset of eBPF `compile` emits, so the
    /// rule semantics are tested without loading anything into the kernel.
    fn run(prog: &[Insn], typ: u32, access: u32, major: u32, minor: u32) -> u64 {
        let ctx = [(access << 16) | typ, major, minor];
        let mut r = [0u64; 11];
        let mut pc = 0usize;
        loop {
            let i = prog[pc];
            let (dst, src) = ((i.regs & 0xf) as usize, (i.regs >> 4) as usize);
            pc += 1;
            match i.code {
                LDX_W => r[dst] = u64::from(ctx[i.off as usize / 4]),
                MOV64_X => r[dst] = r[src],
                MOV64_K => r[dst] = i.imm as u64,
                AND64_K => r[dst] &= i.imm as u64,
                RSH64_K => r[dst] >>= i.imm,
                JNE_K => {
                    if r[dst] != i.imm as u64 {
                        pc += i.off as usize;
                    }
                }
                EXIT => return r[0],
                other => panic!("unexpected opcode {other:#x}"),
            }
        }
    }

    fn rule(allow: bool, typ: &str, major: Option<i64>, minor: Option<i64>, access: &str) -> DeviceCgroup {
        DeviceCgroup { allow, typ: Some(typ.into()), major, minor, access: Some(access.into()) }
    }

    #[test]
    fn rules_behave_like_cgroup_v1() {
        let rules = vec![
            rule(false, "a", None, None, "rwm"),
            rule(true, "c", Some(1), Some(3), "rw"),
            rule(true, "c", Some(136), None, "rwm"),
            rule(true, "b", None, None, "m"),
        ];
        let p = compile(&rules);
        let (chr, blk, r, w, m) = (2, 1, 2, 4, 1);
        assert_eq!(run(&p, chr, r | w, 1, 3), 1, "/dev/null rw");
        assert_eq!(run(&p, chr, m, 1, 3), 0, "mknod of /dev/null not granted");
        assert_eq!(run(&p, chr, r, 1, 5), 0, "/dev/zero denied");
        assert_eq!(run(&p, chr, r, 136, 7), 1, "any pts");
        assert_eq!(run(&p, blk, m, 8, 0), 1, "mknod of block devices");
        assert_eq!(run(&p, blk, r, 8, 0), 0, "reading block devices");
        assert_eq!(run(&compile(&[]), blk, r, 8, 0), 1, "no rules: allow all, as v1 starts");
        let deny_null = compile(&[rule(false, "c", Some(1), Some(3), "w")]);
        assert_eq!(run(&deny_null, chr, w, 1, 3), 0);
        assert_eq!(run(&deny_null, chr, r, 1, 3), 1);
    }
}
