//! Boot and shutdown: a clean boot reports sane memory and its boot time and
//! shuts down with status 0; boot modules arrive with their sizes and command
//! lines.

use tests::{assert_status, u64_field, Boot, TempFile};

const MIB: u64 = 1024 * 1024;
const PAGE: u64 = 4096;

#[test]
fn clean_boot_without_modules() {
    let out = Boot::new().run();
    assert_status(&out, 0);
    assert_eq!(
        out.events("boot").len(),
        1,
        "one boot event (no reboot)\n{}",
        out.report()
    );

    let mem = out
        .event("memory")
        .unwrap_or_else(|| panic!("no memory event\n{}", out.report()));
    let total = u64_field(mem, "total_bytes");
    let usable = u64_field(mem, "usable_bytes");
    let free = u64_field(mem, "free_frames") * PAGE;
    assert!(usable <= total, "usable > total: {mem}");
    assert!(
        usable > 448 * MIB && usable <= 512 * MIB,
        "-m 512M but {usable} usable bytes: {mem}"
    );
    assert!(
        free > 0 && free <= usable,
        "free frames out of range: {mem}"
    );
    assert!(
        free >= usable / 2,
        "more than half of memory not free after boot: {mem}"
    );

    assert!(
        out.events("module").is_empty(),
        "no modules were given\n{}",
        out.report()
    );

    let bench = out
        .bench("boot_to_ready")
        .unwrap_or_else(|| panic!("no boot_to_ready bench line\n{}", out.report()));
    assert_eq!(bench["unit"], "cycles", "{bench}");
    assert!(u64_field(bench, "value") > 0, "{bench}");
    assert_eq!(u64_field(bench, "n"), 1, "{bench}");
    let us = bench["us"]
        .as_f64()
        .unwrap_or_else(|| panic!("us is not a number: {bench}"));
    assert!(us > 0.0, "{bench}");
}

#[test]
fn memory_size_follows_qemu_m() {
    let out = Boot::new().memory_mib(128).run();
    assert_status(&out, 0);
    let mem = out.event("memory").expect("memory event");
    let usable = u64_field(mem, "usable_bytes");
    assert!(
        usable > 100 * MIB && usable <= 128 * MIB,
        "-m 128M but {usable} usable bytes: {mem}"
    );
}

#[test]
fn two_modules_with_sizes_and_command_lines() {
    let a = TempFile::with_size("mod-a", 1234);
    let b = TempFile::with_size("mod-b", 70000);
    let specs = [
        format!("{} alpha beta", a.path_str()),
        b.path_str(), // no arguments: the command line is the bare path
    ];
    let out = Boot::new().module(&specs[0]).module(&specs[1]).run();
    assert_status(&out, 0);

    let mods = out.events("module");
    assert_eq!(
        mods.len(),
        2,
        "two module events expected\n{}",
        out.report()
    );
    let mut prev_end = 0;
    for (i, (m, (spec, size))) in mods.iter().zip(specs.iter().zip([1234, 70000])).enumerate() {
        assert_eq!(u64_field(m, "index"), i as u64, "{m}");
        assert_eq!(
            m["cmdline"],
            spec.as_str(),
            "the whole spec, path included: {m}"
        );
        let (start, end) = (u64_field(m, "start"), u64_field(m, "end"));
        assert_eq!(u64_field(m, "size"), size, "{m}");
        assert_eq!(end - start, size, "end - start == size: {m}");
        assert_eq!(start % PAGE, 0, "module start not page aligned: {m}");
        assert!(
            start >= prev_end,
            "modules out of order or overlapping: {m}"
        );
        prev_end = end;
    }
}

#[test]
fn module_arguments_keep_commas_and_spacing() {
    // QEMU separates modules with ',' and reads ",," as a literal comma;
    // the runner escapes, the kernel must see the original text.
    let a = TempFile::with_size("mod-comma", 100);
    let b = TempFile::with_size("mod-after", 200);
    let spec = format!("{} x,y  z=1,2", a.path_str());
    let out = Boot::new().module(&spec).module(b.path_str()).run();
    assert_status(&out, 0);
    let mods = out.events("module");
    assert_eq!(
        mods.len(),
        2,
        "a comma must not split a module\n{}",
        out.report()
    );
    assert_eq!(mods[0]["cmdline"], spec.as_str());
    assert_eq!(u64_field(mods[0], "size"), 100);
    assert_eq!(mods[1]["cmdline"], b.path_str().as_str());
    assert_eq!(u64_field(mods[1], "size"), 200);
}
