//! What a scan records for each kind of thing a repository can hold: the walk reads regular
//! files as it lists them and resolves links once the whole tree is known, and both must give
//! the problems a look at each path would.

use std::os::unix::fs::symlink;
use std::path::Path;

use super::*;

fn write(root: &Path, rel: &str, text: &[u8]) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn link(root: &Path, rel: &str, target: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    symlink(target, path).unwrap();
}

fn text<'a>(scan: &'a Scan, rel: &str) -> Option<&'a str> {
    scan.texts.iter().find(|(p, _)| p == rel).map(|(_, t)| &**t)
}

const SOPS: &[u8] = br#"{"data": "ENC[AES256_GCM,data:x]", "sops": {"version": "3.9"}}"#;

#[test]
fn files_are_read_links_resolved_and_every_failure_recorded() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("out.nix"), "{ }").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    write(&root, "flake.nix", b"{ outputs = _: { }; }");
    write(&root, "modules/real.nix", b"{ real = 1; }");
    link(&root, "modules/alias.nix", "real.nix");
    link(
        &root,
        "modules/via-dir.nix",
        "../other/../modules/./real.nix",
    );
    link(&root, "modules/loop-a.nix", "loop-b.nix");
    link(&root, "modules/loop-b.nix", "loop-a.nix");
    link(&root, "modules/dangling.nix", "missing.nix");
    let out = outside.path().join("out.nix");
    link(&root, "modules/out.nix", out.to_str().unwrap());
    // Out by `..`: both directories are in the same temporary directory.
    let outside_name = outside.path().file_name().unwrap().to_str().unwrap();
    link(
        &root,
        "modules/up.nix",
        &format!("../../{outside_name}/out.nix"),
    );
    std::fs::create_dir_all(root.join("other")).unwrap();
    link(&root, "flake.lock", "modules");
    crate::tests::mkfifo(&root.join("modules/pipe.nix"));
    write(&root, "vars/per-machine/m/g/f/secret", SOPS);
    write(&root, "vars/per-machine/m/g/plain/secret", b"hunter2");
    std::fs::create_dir_all(root.join("vars/per-machine/m/g/pipe")).unwrap();
    crate::tests::mkfifo(&root.join("vars/per-machine/m/g/pipe/secret"));
    link(
        &root,
        "modules/secret.nix",
        "../vars/per-machine/m/g/plain/secret",
    );
    write(
        &root,
        "vars/per-machine/m/g/.validation-hash",
        &vec![b'a'; 5000],
    );
    write(&root, "vars/per-machine/m/h/.validation-hash", b"abc");
    // Read before anything below the root (a directory's files come before its
    // subdirectories'), yet sorted after them.
    write(&root, "z.nix", b"{ }");

    let scan = scan(&root).unwrap();
    assert_eq!(text(&scan, "modules/real.nix"), Some("{ real = 1; }"));
    assert_eq!(
        text(&scan, "vars/per-machine/m/h/.validation-hash"),
        Some("abc")
    );
    assert_eq!(
        scan.disk.alias("modules/alias.nix"),
        Some("modules/real.nix")
    );
    assert_eq!(
        scan.disk.alias("modules/via-dir.nix"),
        Some("modules/real.nix")
    );
    let problem = |rel: &str| scan.disk.problem(rel).cloned();
    assert_eq!(
        problem("modules/loop-a.nix"),
        Some(Problem::Io {
            dir: false,
            error: "a symbolic link loop".into()
        })
    );
    assert_eq!(problem("modules/dangling.nix"), Some(Problem::DanglingLink));
    assert_eq!(problem("modules/out.nix"), Some(Problem::OutsideRoot));
    assert_eq!(problem("modules/up.nix"), Some(Problem::OutsideRoot));
    assert_eq!(
        problem("flake.lock"),
        Some(Problem::NotAFile("a link to a directory"))
    );
    assert_eq!(
        problem("modules/pipe.nix"),
        Some(Problem::NotAFile("a named pipe (FIFO)"))
    );
    assert_eq!(
        problem("modules/secret.nix"),
        Some(Problem::NotReadable(
            "vars/per-machine/m/g/plain/secret".into()
        ))
    );
    assert_eq!(
        problem("vars/per-machine/m/g/.validation-hash"),
        Some(Problem::TooLarge {
            size: 5000,
            limit: fsread::MAX_HASH_BYTES
        })
    );
    assert_eq!(
        problem("vars/per-machine/m/g/pipe/secret"),
        Some(Problem::NotAFile("a named pipe (FIFO)"))
    );
    assert_eq!(
        scan.disk.secret_encrypted("vars/per-machine/m/g/f/secret"),
        Some(true)
    );
    assert_eq!(
        scan.disk
            .secret_encrypted("vars/per-machine/m/g/plain/secret"),
        Some(false)
    );
    // Only analysed files are texts: no secret, no link, nothing that failed.
    let read: Vec<&str> = scan.texts.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        read,
        vec![
            "flake.nix",
            "modules/real.nix",
            "vars/per-machine/m/h/.validation-hash",
            "z.nix"
        ]
    );
    // Every problem is also in words for the log.
    assert_eq!(scan.unreadable.len(), scan.disk.problems().count());
}

#[test]
fn a_directory_that_cannot_be_listed_is_recorded_and_nothing_below_it_is_read() {
    struct Refuses;
    impl crate::walk::Lister for Refuses {
        fn read_dir(&self, dir: &Path) -> io::Result<crate::walk::Listing> {
            if dir.ends_with("vars/per-machine") {
                return Err(io::Error::from(io::ErrorKind::PermissionDenied));
            }
            crate::walk::Disk.read_dir(dir)
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    write(&root, "flake.nix", b"{ }");
    write(&root, "vars/per-machine/m/g/f/secret", SOPS);
    write(&root, "vars/per-machine/m/g/.validation-hash", b"abc");
    write(&root, "vars/shared/g/f/secret", SOPS);
    let scan = scan_with(&root, &Refuses).unwrap();
    assert_eq!(
        scan.disk.problem("vars/per-machine"),
        Some(&Problem::Io {
            dir: true,
            error: "permission denied".into()
        })
    );
    assert!(scan.disk.is_unknown("vars/per-machine/m/g/f/secret"));
    assert_eq!(scan.disk.under("vars/per-machine").count(), 0);
    assert_eq!(
        scan.disk.secret_encrypted("vars/shared/g/f/secret"),
        Some(true)
    );
    assert_eq!(scan.disk.secrets().count(), 1);
    assert_eq!(
        scan.texts
            .iter()
            .map(|(p, _)| p.as_str())
            .collect::<Vec<_>>(),
        vec!["flake.nix"]
    );
}

/// The paths below `dir`, found by the simplest walk there is (every entry looked up by its
/// whole path), for comparison.
fn plain_walk(root: &Path, rel: &str, out: &mut Vec<(String, EntryKind)>) {
    for entry in std::fs::read_dir(root.join(rel)).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        let child = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        let meta = std::fs::symlink_metadata(root.join(&child)).unwrap();
        if meta.is_symlink() {
            let target = std::fs::read_link(root.join(&child)).unwrap();
            out.push((child, EntryKind::Symlink(target.to_str().unwrap().into())));
        } else if meta.is_dir() {
            out.push((child.clone(), EntryKind::Dir));
            plain_walk(root, &child, out);
        } else {
            out.push((child, EntryKind::File));
        }
    }
}

#[test]
fn the_parallel_walk_finds_what_a_plain_walk_finds() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    write(&root, "flake.nix", b"{ }");
    for m in 0..40 {
        let base = format!("vars/per-machine/m{m}/openssh/ssh.id_ed25519");
        write(&root, &format!("{base}/secret"), SOPS);
        write(&root, &format!("{base}.pub/value"), b"ssh-ed25519 AAAA");
        link(
            &root,
            &format!("{base}/machines/m{m}"),
            &format!("../../../../../../sops/machines/m{m}"),
        );
        write(&root, &format!("sops/machines/m{m}/key.json"), b"{}");
        write(
            &root,
            &format!("machines/m{m}/configuration.nix"),
            format!("{{ networking.hostName = \"m{m}\"; }}").as_bytes(),
        );
        // Deep as well as wide.
        let deep = (0..m % 7)
            .map(|d| format!("d{d}"))
            .collect::<Vec<_>>()
            .join("/");
        write(&root, &format!("modules/{deep}/x{m}.nix"), b"{ }");
    }
    let scan = scan(&root).unwrap();
    let mut expected = Vec::new();
    plain_walk(&root, "", &mut expected);
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    let found: Vec<(String, EntryKind)> = scan
        .disk
        .iter()
        .map(|(p, k)| (p.to_owned(), k.clone()))
        .collect();
    assert_eq!(found, expected);
    // The walk itself lists every entry: the disk tree would make up a missing directory.
    let mut walked = crate::walk::walk(&root, &crate::walk::Disk, &crate::walk::NoReads)
        .unwrap()
        .entries;
    walked.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(walked, expected);
    assert_eq!(scan.disk.secrets().filter(|(_, e)| *e).count(), 40);
    let nix = expected.iter().filter(|(p, _)| p.ends_with(".nix")).count();
    assert_eq!(scan.texts.len(), nix);
    assert!(scan.unreadable.is_empty(), "{:?}", scan.unreadable);
}
