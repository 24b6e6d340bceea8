//! A write-dropping filesystem for power-cut tests: an in-memory FUSE filesystem in the
//! spirit of Jepsen's LazyFS, held to what POSIX promises rather than to what a journalling
//! filesystem happens to do.
//!
//! Every inode has a volatile state (what processes see) and a durable state (what a disk
//! would hold after a power cut):
//! - `fsync`/`fdatasync` of a file makes its data, size and attributes durable;
//! - `fsyncdir` of a directory makes its entries durable: the creations, renames and
//!   unlinks in it, each directory on its own;
//! - writes, truncates, attribute changes, creations, renames and unlinks change only the
//!   volatile state.
//!
//! [`PowerCutFs::power_cut`] unmounts (it refuses while a process still holds a file
//! open: kill the writers first), reverts every inode to its durable state, drops the
//! inodes that no durable entry reaches from the root, and mounts again. A new inode is
//! durably its empty self as created, so an entry synced before its file's data brings back
//! an empty file, as on a real disk.
//!
//! What it does not model: a disk that keeps some unsynced writes (a prefix, a subset, a
//! reordering, a sector torn in half) — it drops every unsynced write of a file, which is
//! the outcome that a missing fsync is sure to be caught by, but not the only one a disk
//! may produce; journalling filesystems that persist metadata in order (on ext4 an fsync
//! often carries earlier renames with it, here it never does); a rename across two
//! directories of which only one is synced (here the name may then exist in both or in
//! neither); hard links, symbolic links, special files, extended attributes and
//! `fallocate` (refused with `EPERM`, `ENOSYS` or `EOPNOTSUPP`; RocksDB and git do without
//! them); and byte-range or `flock` locks, which the kernel keeps for the mount itself. The
//! kernel's caches hold nothing unsynced across a cut: without a write-back cache every
//! write reaches this layer before the call returns, and each mount starts cold.
//!
//! Memory holds everything the test writes (volatile and durable copies); a file that is
//! gone from both states is freed.

use fuser::{
    AccessFlags, Errno, FileAttr, FileHandle, FileType, Filesystem, FopenFlags, Generation,
    INodeNo, LockOwner, MountOption, OpenFlags, RenameFlags, ReplyAttr, ReplyCreate, ReplyData,
    ReplyDirectory, ReplyEmpty, ReplyEntry, ReplyOpen, ReplyStatfs, ReplyWrite, Request, TimeOrNow,
    WriteFlags,
};
use std::collections::{BTreeMap, HashMap};
use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

/// Set to `1` to skip the power-cut tests where they cannot run (not root, no /dev/fuse).
pub const SKIP_ENV: &str = "WEFT_SKIP_POWERCUT";

/// How long the kernel may cache names and attributes: every change passes through this
/// layer, so a cache can only be stale across a cut, and each cut mounts afresh.
const TTL: Duration = Duration::from_secs(1);

/// How often an unmount refused as busy is retried: a process forked by another test of the
/// same binary may briefly hold a copy of a descriptor on the mount until it execs.
const UNMOUNT_TRIES: u32 = 50;

/// Inode number of the root.
const ROOT: u64 = INodeNo::ROOT.0;

/// Attributes a sync makes durable with the data.
#[derive(Clone, Copy, Debug)]
struct Attrs {
    perm: u16,
    uid: u32,
    gid: u32,
    atime: SystemTime,
    mtime: SystemTime,
    ctime: SystemTime,
}

impl Attrs {
    fn new(req: &Request, mode: u32, umask: u32) -> Attrs {
        let now = SystemTime::now();
        Attrs {
            perm: (mode & !umask & 0o7777) as u16,
            uid: req.uid(),
            gid: req.gid(),
            atime: now,
            mtime: now,
            ctime: now,
        }
    }
}

#[derive(Debug)]
enum Body {
    File {
        data: Vec<u8>,
        durable: Vec<u8>,
    },
    Dir {
        entries: BTreeMap<OsString, u64>,
        durable: BTreeMap<OsString, u64>,
    },
}

#[derive(Debug)]
struct Inode {
    body: Body,
    attrs: Attrs,
    durable_attrs: Attrs,
    /// Volatile directory entries naming it.
    links: u32,
    /// Durable directory entries naming it.
    durable_links: u32,
    /// Open file handles.
    open: u32,
}

impl Inode {
    fn new(body: Body, attrs: Attrs) -> Inode {
        Inode {
            body,
            attrs,
            // Created as it is: the entry's sync brings the inode back empty, not absent.
            durable_attrs: attrs,
            links: 0,
            durable_links: 0,
            open: 0,
        }
    }

    fn kind(&self) -> FileType {
        match self.body {
            Body::File { .. } => FileType::RegularFile,
            Body::Dir { .. } => FileType::Directory,
        }
    }

    fn entries(&self) -> Result<&BTreeMap<OsString, u64>, Errno> {
        match &self.body {
            Body::Dir { entries, .. } => Ok(entries),
            Body::File { .. } => Err(Errno::ENOTDIR),
        }
    }

    fn entries_mut(&mut self) -> Result<&mut BTreeMap<OsString, u64>, Errno> {
        match &mut self.body {
            Body::Dir { entries, .. } => Ok(entries),
            Body::File { .. } => Err(Errno::ENOTDIR),
        }
    }

    fn data_mut(&mut self) -> Result<&mut Vec<u8>, Errno> {
        match &mut self.body {
            Body::File { data, .. } => Ok(data),
            Body::Dir { .. } => Err(Errno::EISDIR),
        }
    }
}

/// What a cut threw away, by the paths the files had just before it (`?` for one that
/// was already unlinked).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cut {
    /// Files and directories whose data or entries went back to their durable state.
    pub reverted: Vec<String>,
    /// Files and directories no durable entry reached any more, dropped.
    pub dropped: Vec<String>,
}

/// The inodes: shared by the mounted filesystem and the handle that cuts the power.
#[derive(Debug)]
struct State {
    inodes: HashMap<u64, Inode>,
    /// Inode numbers are never reused, so the kernel never needs generations.
    next: u64,
}

impl State {
    fn new() -> State {
        let now = SystemTime::now();
        let attrs = Attrs {
            perm: 0o755,
            uid: rustix::process::geteuid().as_raw(),
            gid: rustix::process::getegid().as_raw(),
            atime: now,
            mtime: now,
            ctime: now,
        };
        let mut root = Inode::new(
            Body::Dir {
                entries: BTreeMap::new(),
                durable: BTreeMap::new(),
            },
            attrs,
        );
        // The root is the mount itself: nothing can unlink it.
        root.links = 1;
        root.durable_links = 1;
        State {
            inodes: HashMap::from([(ROOT, root)]),
            next: ROOT + 1,
        }
    }

    fn get(&self, ino: u64) -> Result<&Inode, Errno> {
        self.inodes.get(&ino).ok_or(Errno::ENOENT)
    }

    fn get_mut(&mut self, ino: u64) -> Result<&mut Inode, Errno> {
        self.inodes.get_mut(&ino).ok_or(Errno::ENOENT)
    }

    fn attr(&self, ino: u64) -> Result<FileAttr, Errno> {
        let inode = self.get(ino)?;
        let (size, nlink) = match &inode.body {
            Body::File { data, .. } => (data.len() as u64, inode.links),
            Body::Dir { entries, .. } => {
                let subdirs = entries
                    .values()
                    .filter(|child| {
                        self.inodes
                            .get(child)
                            .is_some_and(|c| c.kind() == FileType::Directory)
                    })
                    .count();
                (4096, 2 + subdirs as u32)
            }
        };
        let a = inode.attrs;
        Ok(FileAttr {
            ino: INodeNo(ino),
            size,
            blocks: size.div_ceil(512),
            atime: a.atime,
            mtime: a.mtime,
            ctime: a.ctime,
            crtime: a.ctime,
            kind: inode.kind(),
            perm: a.perm,
            nlink,
            uid: a.uid,
            gid: a.gid,
            rdev: 0,
            blksize: 4096,
            flags: 0,
        })
    }

    fn child(&self, parent: u64, name: &OsStr) -> Result<Option<u64>, Errno> {
        Ok(self.get(parent)?.entries()?.get(name).copied())
    }

    /// Adds a new inode under `parent` as `name` (which must be free).
    fn create(
        &mut self,
        parent: u64,
        name: &OsStr,
        body: Body,
        attrs: Attrs,
    ) -> Result<u64, Errno> {
        if self.child(parent, name)?.is_some() {
            return Err(Errno::EEXIST);
        }
        let ino = self.next;
        self.next += 1;
        let mut inode = Inode::new(body, attrs);
        inode.links = 1;
        self.inodes.insert(ino, inode);
        let dir = self.get_mut(parent)?;
        dir.entries_mut()?.insert(name.to_os_string(), ino);
        touch(&mut dir.attrs);
        Ok(ino)
    }

    /// Removes `name` from `parent`'s volatile entries.
    fn unlink(&mut self, parent: u64, name: &OsStr, want_dir: bool) -> Result<(), Errno> {
        let ino = self.child(parent, name)?.ok_or(Errno::ENOENT)?;
        self.removable(ino, want_dir)?;
        let dir = self.get_mut(parent)?;
        dir.entries_mut()?.remove(name);
        touch(&mut dir.attrs);
        self.drop_link(ino);
        Ok(())
    }

    /// Whether `ino` may lose its name to an unlink (`want_dir` false), an rmdir, or a
    /// rename of a file or directory over it.
    fn removable(&self, ino: u64, want_dir: bool) -> Result<(), Errno> {
        match (&self.get(ino)?.body, want_dir) {
            (Body::File { .. }, true) => Err(Errno::ENOTDIR),
            (Body::Dir { .. }, false) => Err(Errno::EISDIR),
            (Body::Dir { entries, .. }, true) if !entries.is_empty() => Err(Errno::ENOTEMPTY),
            _ => Ok(()),
        }
    }

    fn drop_link(&mut self, ino: u64) {
        if let Some(inode) = self.inodes.get_mut(&ino) {
            inode.links = inode.links.saturating_sub(1);
            inode.attrs.ctime = SystemTime::now();
        }
        self.reap(ino);
    }

    /// Frees what no one can reach: the volatile data of a file with no name and no open
    /// handle, and the whole inode once no durable entry names it either.
    fn reap(&mut self, ino: u64) {
        let Some(inode) = self.inodes.get_mut(&ino) else {
            return;
        };
        if ino == ROOT || inode.links > 0 || inode.open > 0 {
            return;
        }
        if inode.durable_links == 0 {
            self.inodes.remove(&ino);
        } else if let Body::File { data, .. } = &mut inode.body {
            *data = Vec::new();
        }
    }

    fn rename(
        &mut self,
        parent: u64,
        name: &OsStr,
        newparent: u64,
        newname: &OsStr,
        flags: RenameFlags,
    ) -> Result<(), Errno> {
        if flags.intersects(RenameFlags::RENAME_EXCHANGE | RenameFlags::RENAME_WHITEOUT) {
            return Err(Errno::EINVAL);
        }
        let ino = self.child(parent, name)?.ok_or(Errno::ENOENT)?;
        self.get(newparent)?.entries()?;
        let replaced = self.child(newparent, newname)?;
        if replaced == Some(ino) {
            return Ok(());
        }
        if let Some(target) = replaced {
            if flags.contains(RenameFlags::RENAME_NOREPLACE) {
                return Err(Errno::EEXIST);
            }
            self.removable(target, self.get(ino)?.kind() == FileType::Directory)?;
        }
        let from = self.get_mut(parent)?;
        from.entries_mut()?.remove(name);
        touch(&mut from.attrs);
        let to = self.get_mut(newparent)?;
        to.entries_mut()?.insert(newname.to_os_string(), ino);
        touch(&mut to.attrs);
        self.get_mut(ino)?.attrs.ctime = SystemTime::now();
        if let Some(target) = replaced {
            self.drop_link(target);
        }
        Ok(())
    }

    fn fsync(&mut self, ino: u64) -> Result<(), Errno> {
        let inode = self.get_mut(ino)?;
        inode.durable_attrs = inode.attrs;
        let (added, removed) = match &mut inode.body {
            Body::File { data, durable } => {
                durable.clear();
                durable.extend_from_slice(data);
                return Ok(());
            }
            Body::Dir { entries, durable } => {
                let added: Vec<u64> = entries
                    .iter()
                    .filter(|(name, ino)| durable.get(*name) != Some(ino))
                    .map(|(_, ino)| *ino)
                    .collect();
                let removed: Vec<u64> = durable
                    .iter()
                    .filter(|(name, ino)| entries.get(*name) != Some(ino))
                    .map(|(_, ino)| *ino)
                    .collect();
                *durable = entries.clone();
                (added, removed)
            }
        };
        for child in added {
            if let Some(c) = self.inodes.get_mut(&child) {
                c.durable_links += 1;
            }
        }
        for child in removed {
            if let Some(c) = self.inodes.get_mut(&child) {
                c.durable_links = c.durable_links.saturating_sub(1);
            }
            self.reap(child);
        }
        Ok(())
    }

    /// Makes everything durable, as a `sync` followed by a clean shutdown would.
    fn sync_all(&mut self) {
        let inos: Vec<u64> = self.inodes.keys().copied().collect();
        for ino in inos {
            let _ = self.fsync(ino);
        }
    }

    /// Each reachable inode's path in the volatile tree.
    fn paths(&self) -> HashMap<u64, String> {
        let mut paths = HashMap::from([(ROOT, String::new())]);
        let mut todo = vec![ROOT];
        while let Some(dir) = todo.pop() {
            let Some(Body::Dir { entries, .. }) = self.inodes.get(&dir).map(|i| &i.body) else {
                continue;
            };
            let base = paths[&dir].clone();
            for (name, child) in entries {
                if !paths.contains_key(child) {
                    paths.insert(*child, format!("{base}/{}", name.to_string_lossy()));
                    todo.push(*child);
                }
            }
        }
        paths
    }

    fn power_cut(&mut self) -> Cut {
        let paths = self.paths();
        let path = |ino: &u64| paths.get(ino).cloned().unwrap_or_else(|| "?".into());
        let mut cut = Cut::default();
        for (ino, inode) in self.inodes.iter_mut() {
            let changed = match &mut inode.body {
                Body::File { data, durable } => {
                    let changed = data != durable;
                    data.clone_from(durable);
                    changed
                }
                Body::Dir { entries, durable } => {
                    let changed = entries != durable;
                    entries.clone_from(durable);
                    changed
                }
            };
            if changed {
                cut.reverted.push(path(ino));
            }
            inode.attrs = inode.durable_attrs;
            inode.open = 0;
            inode.links = 0;
            inode.durable_links = 0;
        }
        let mut reached = vec![ROOT];
        let mut seen = std::collections::HashSet::from([ROOT]);
        while let Some(ino) = reached.pop() {
            let children: Vec<u64> = match self.inodes.get(&ino).map(|i| &i.body) {
                Some(Body::Dir { entries, .. }) => entries.values().copied().collect(),
                _ => continue,
            };
            for child in children {
                if let Some(c) = self.inodes.get_mut(&child) {
                    c.links += 1;
                    c.durable_links += 1;
                }
                if seen.insert(child) {
                    reached.push(child);
                }
            }
        }
        self.inodes.retain(|ino, _| {
            if !seen.contains(ino) {
                cut.dropped.push(path(ino));
            }
            seen.contains(ino)
        });
        cut.reverted.retain(|p| !cut.dropped.contains(p));
        cut.reverted.sort();
        cut.dropped.sort();
        let root = self.inodes.get_mut(&ROOT).expect("the root survives");
        root.links = 1;
        root.durable_links = 1;
        cut
    }
}

fn touch(attrs: &mut Attrs) {
    let now = SystemTime::now();
    attrs.mtime = now;
    attrs.ctime = now;
}

fn time_of(t: TimeOrNow) -> SystemTime {
    match t {
        TimeOrNow::SpecificTime(t) => t,
        TimeOrNow::Now => SystemTime::now(),
    }
}

/// The filesystem the kernel talks to; each mount gets one over the same state.
struct Layer {
    state: Arc<Mutex<State>>,
}

impl Layer {
    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock left the state as consistent as any one operation
        // does; the test that caused it fails anyway.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn entry(&self, reply: ReplyEntry, found: Result<u64, Errno>) {
        match found.and_then(|ino| self.state().attr(ino)) {
            Ok(attr) => reply.entry(&TTL, &attr, Generation(0)),
            Err(e) => reply.error(e),
        }
    }

    fn empty(reply: ReplyEmpty, done: Result<(), Errno>) {
        match done {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }
}

/// The attributes of a new regular file; other kinds of node are not modelled.
fn file_attrs(req: &Request, mode: u32, umask: u32) -> Result<Attrs, Errno> {
    let kind = mode & 0o170000;
    if kind == 0 || kind == rustix::fs::FileType::RegularFile.as_raw_mode() {
        Ok(Attrs::new(req, mode, umask))
    } else {
        Err(Errno::EPERM)
    }
}

fn empty_file() -> Body {
    Body::File {
        data: Vec::new(),
        durable: Vec::new(),
    }
}

impl Filesystem for Layer {
    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        let found = self
            .state()
            .child(parent.0, name)
            .and_then(|c| c.ok_or(Errno::ENOENT));
        self.entry(reply, found);
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, _fh: Option<FileHandle>, reply: ReplyAttr) {
        match self.state().attr(ino.0) {
            Ok(attr) => reply.attr(&TTL, &attr),
            Err(e) => reply.error(e),
        }
    }

    fn setattr(
        &self,
        _req: &Request,
        ino: INodeNo,
        mode: Option<u32>,
        uid: Option<u32>,
        gid: Option<u32>,
        size: Option<u64>,
        atime: Option<TimeOrNow>,
        mtime: Option<TimeOrNow>,
        _ctime: Option<SystemTime>,
        _fh: Option<FileHandle>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<fuser::BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        let mut state = self.state();
        let changed = (|| {
            let inode = state.get_mut(ino.0)?;
            if let Some(size) = size {
                let len = usize::try_from(size).map_err(|_| Errno::EFBIG)?;
                inode.data_mut()?.resize(len, 0);
                inode.attrs.mtime = SystemTime::now();
            }
            let a = &mut inode.attrs;
            if let Some(mode) = mode {
                a.perm = (mode & 0o7777) as u16;
            }
            a.uid = uid.unwrap_or(a.uid);
            a.gid = gid.unwrap_or(a.gid);
            a.atime = atime.map_or(a.atime, time_of);
            a.mtime = mtime.map_or(a.mtime, time_of);
            a.ctime = SystemTime::now();
            state.attr(ino.0)
        })();
        match changed {
            Ok(attr) => reply.attr(&TTL, &attr),
            Err(e) => reply.error(e),
        }
    }

    fn mknod(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        _rdev: u32,
        reply: ReplyEntry,
    ) {
        let made = file_attrs(req, mode, umask)
            .and_then(|attrs| self.state().create(parent.0, name, empty_file(), attrs));
        self.entry(reply, made);
    }

    fn mkdir(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        reply: ReplyEntry,
    ) {
        let body = Body::Dir {
            entries: BTreeMap::new(),
            durable: BTreeMap::new(),
        };
        let made = self
            .state()
            .create(parent.0, name, body, Attrs::new(req, mode, umask));
        self.entry(reply, made);
    }

    fn unlink(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        Layer::empty(reply, self.state().unlink(parent.0, name, false));
    }

    fn rmdir(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        Layer::empty(reply, self.state().unlink(parent.0, name, true));
    }

    fn rename(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        newparent: INodeNo,
        newname: &OsStr,
        flags: RenameFlags,
        reply: ReplyEmpty,
    ) {
        let done = self
            .state()
            .rename(parent.0, name, newparent.0, newname, flags);
        Layer::empty(reply, done);
    }

    fn open(&self, _req: &Request, ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        // O_TRUNC arrives as a setattr of the size (no atomic-truncate capability).
        match self.state().get_mut(ino.0) {
            Ok(inode) => {
                inode.open += 1;
                reply.opened(FileHandle(0), FopenFlags::empty());
            }
            Err(e) => reply.error(e),
        }
    }

    fn read(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        let state = self.state();
        match state.get(ino.0).map(|i| &i.body) {
            Ok(Body::File { data, .. }) => {
                let start = usize::try_from(offset).map_or(data.len(), |o| o.min(data.len()));
                let end = start.saturating_add(size as usize).min(data.len());
                reply.data(&data[start..end]);
            }
            Ok(Body::Dir { .. }) => reply.error(Errno::EISDIR),
            Err(e) => reply.error(e),
        }
    }

    fn write(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        bytes: &[u8],
        _write_flags: WriteFlags,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        let mut state = self.state();
        let written = (|| {
            let inode = state.get_mut(ino.0)?;
            let data = inode.data_mut()?;
            let start = usize::try_from(offset).map_err(|_| Errno::EFBIG)?;
            let end = start.checked_add(bytes.len()).ok_or(Errno::EFBIG)?;
            if data.len() < end {
                data.resize(end, 0);
            }
            data[start..end].copy_from_slice(bytes);
            touch(&mut inode.attrs);
            u32::try_from(bytes.len()).map_err(|_| Errno::EINVAL)
        })();
        match written {
            Ok(n) => reply.written(n),
            Err(e) => reply.error(e),
        }
    }

    fn flush(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _lock_owner: LockOwner,
        reply: ReplyEmpty,
    ) {
        // close() is no sync: nothing becomes durable here.
        reply.ok();
    }

    fn release(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        _flush: bool,
        reply: ReplyEmpty,
    ) {
        let mut state = self.state();
        if let Ok(inode) = state.get_mut(ino.0) {
            inode.open = inode.open.saturating_sub(1);
        }
        state.reap(ino.0);
        reply.ok();
    }

    fn fsync(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        Layer::empty(reply, self.state().fsync(ino.0));
    }

    fn readdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectory,
    ) {
        let state = self.state();
        let listed = (|| {
            let mut all = vec![
                (ino.0, FileType::Directory, OsString::from(".")),
                (ino.0, FileType::Directory, OsString::from("..")),
            ];
            for (name, child) in state.get(ino.0)?.entries()? {
                all.push((*child, state.get(*child)?.kind(), name.clone()));
            }
            Ok(all)
        })();
        match listed {
            Ok(all) => {
                for (i, (child, kind, name)) in all.iter().enumerate().skip(offset as usize) {
                    if reply.add(INodeNo(*child), i as u64 + 1, *kind, name) {
                        break;
                    }
                }
                reply.ok();
            }
            Err(e) => reply.error(e),
        }
    }

    fn fsyncdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        Layer::empty(reply, self.state().fsync(ino.0));
    }

    fn statfs(&self, _req: &Request, _ino: INodeNo, reply: ReplyStatfs) {
        // Room is not what these tests are about: report a roomy disk.
        reply.statfs(1 << 24, 1 << 24, 1 << 24, 1 << 20, 1 << 20, 4096, 255, 4096);
    }

    fn access(&self, _req: &Request, ino: INodeNo, _mask: AccessFlags, reply: ReplyEmpty) {
        // The mount checks permissions itself (default_permissions); existence is all.
        Layer::empty(reply, self.state().get(ino.0).map(|_| ()));
    }

    fn create(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        flags: i32,
        reply: ReplyCreate,
    ) {
        let attrs = match file_attrs(req, mode, umask) {
            Ok(attrs) => attrs,
            Err(e) => return reply.error(e),
        };
        let excl = flags & rustix::fs::OFlags::EXCL.bits() as i32 != 0;
        let trunc = flags & rustix::fs::OFlags::TRUNC.bits() as i32 != 0;
        let mut state = self.state();
        let opened = (|| {
            let ino = match state.child(parent.0, name)? {
                Some(_) if excl => return Err(Errno::EEXIST),
                Some(ino) => {
                    let inode = state.get_mut(ino)?;
                    let data = inode.data_mut()?;
                    if trunc {
                        data.clear();
                    }
                    ino
                }
                None => state.create(parent.0, name, empty_file(), attrs)?,
            };
            state.get_mut(ino)?.open += 1;
            state.attr(ino)
        })();
        match opened {
            Ok(attr) => reply.created(
                &TTL,
                &attr,
                Generation(0),
                FileHandle(0),
                FopenFlags::empty(),
            ),
            Err(e) => reply.error(e),
        }
    }
}

/// Why power-cut tests cannot run here, if they cannot.
pub fn unavailable() -> Option<String> {
    if !rustix::process::geteuid().is_root() {
        return Some("not root: mounting the FUSE layer needs root (mount(2))".into());
    }
    if let Err(e) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/fuse")
    {
        return Some(format!("/dev/fuse cannot be opened: {e} (modprobe fuse?)"));
    }
    None
}

/// A mounted write-dropping filesystem on a fresh temporary directory, unmounted when
/// dropped (a panicking test included).
pub struct PowerCutFs {
    state: Arc<Mutex<State>>,
    session: Option<fuser::BackgroundSession>,
    dir: tempfile::TempDir,
}

impl PowerCutFs {
    /// Mounts an empty filesystem.
    pub fn mount() -> std::io::Result<PowerCutFs> {
        let mut fs = PowerCutFs {
            state: Arc::new(Mutex::new(State::new())),
            session: None,
            dir: tempfile::tempdir()?,
        };
        fs.attach()?;
        Ok(fs)
    }

    /// Mounts one, or says why it cannot and returns `None` when [`SKIP_ENV`] is `1`.
    /// Without it an unusable machine fails the test: CI runs as root with /dev/fuse.
    pub fn mount_or_skip() -> Option<PowerCutFs> {
        let problem = match unavailable() {
            Some(why) => why,
            None => match PowerCutFs::mount() {
                Ok(fs) => return Some(fs),
                Err(e) => format!("mounting the FUSE layer failed: {e}"),
            },
        };
        if std::env::var(SKIP_ENV).is_ok_and(|v| v == "1") {
            eprintln!("power-cut test skipped ({SKIP_ENV}=1): {problem}");
            return None;
        }
        panic!("power-cut test cannot run: {problem}; set {SKIP_ENV}=1 to skip it");
    }

    /// The mount point.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Makes everything written so far durable: for setting a test up, not for testing.
    pub fn sync_all(&self) {
        self.lock().sync_all();
    }

    /// Cuts the power: unmounts (every process holding a file on the mount must be dead),
    /// reverts every inode to its durable state, drops what no durable entry reaches, and
    /// mounts again, as a machine that reboots.
    pub fn power_cut(&mut self) -> std::io::Result<Cut> {
        self.detach()?;
        let cut = self.lock().power_cut();
        self.attach()?;
        Ok(cut)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn attach(&mut self) -> std::io::Result<()> {
        let mut config = fuser::Config::default();
        config.mount_options = vec![
            MountOption::FSName("weft-powercut".into()),
            MountOption::DefaultPermissions,
        ];
        let layer = Layer {
            state: self.state.clone(),
        };
        self.session = Some(fuser::spawn_mount(layer, self.dir.path(), &config)?);
        Ok(())
    }

    /// Unmounts and waits for the session thread, so the state is no longer touched.
    fn detach(&mut self) -> std::io::Result<()> {
        let Some(session) = self.session.take() else {
            return Ok(());
        };
        let mut tries = 0;
        loop {
            match rustix::mount::unmount(self.dir.path(), rustix::mount::UnmountFlags::empty()) {
                Ok(()) => break,
                Err(rustix::io::Errno::BUSY) if tries < UNMOUNT_TRIES => {
                    tries += 1;
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => {
                    self.session = Some(session);
                    return Err(std::io::Error::other(format!(
                        "unmounting {}: {e} (is a process still using it?)",
                        self.dir.path().display()
                    )));
                }
            }
        }
        session.join()
    }
}

impl Drop for PowerCutFs {
    fn drop(&mut self) {
        if self.detach().is_err() {
            // Something still uses the mount (a test that panicked before killing its
            // child): detach it lazily rather than leave it behind; the session thread
            // serves the stragglers until they close, then ends.
            let _ = rustix::mount::unmount(self.dir.path(), rustix::mount::UnmountFlags::DETACH);
            drop(self.session.take());
        }
    }
}
