//! The process table against a model: a list of (pid, state) and a queue.

use super::*;
use proptest::prelude::*;

#[test]
fn round_robin_block_wake_exit() {
    let mut t: ProcessTable<&str> = ProcessTable::new();
    let a = t.spawn("a", 0, "ctx a").unwrap();
    let b = t.spawn("b", a, "ctx b").unwrap();
    assert_eq!((a, b), (1, 2));
    assert_eq!(t.get(b).unwrap().ppid, a);
    let p = t.run_next().unwrap();
    assert_eq!((p.pid, p.state, p.context), (a, RunState::Running, "ctx a"));
    assert!(t.run_next().is_none(), "one on the CPU at a time");
    assert_eq!(t.current().unwrap().name, "a");
    assert_eq!(t.leave_cpu(RunState::Blocked).unwrap().pid, a);
    assert!(t.current().is_none());
    assert_eq!(t.run_next().unwrap().pid, b);
    assert_eq!(t.leave_cpu(RunState::Ready).unwrap().state, RunState::Ready);
    assert_eq!(t.run_next().unwrap().pid, b, "a is blocked: b again");
    assert!(t.wake(a));
    assert!(!t.wake(a), "waking a ready process changes nothing");
    t.leave_cpu(RunState::Exited(Ended::Exited(4)));
    assert_eq!(t.run_next().unwrap().pid, a);
    t.leave_cpu(RunState::Exited(Ended::Exited(3)));
    let reaped: Vec<Pid> = t.reap().into_iter().map(|p| p.pid).collect();
    assert_eq!(reaped, [a, b]);
    assert!(t.is_empty());
    assert_eq!(
        t.shutdown_status(),
        3,
        "the first non-zero status, not a child's"
    );
    assert_eq!(t.take_shutdown_status(), 3);
    assert_eq!(t.shutdown_status(), 0, "taken: failures count anew");
}

#[test]
fn kill_all_ends_every_live_process() {
    let mut t: ProcessTable<()> = ProcessTable::new();
    for name in ["a", "b", "c"] {
        t.spawn(name, 0, ()).unwrap();
    }
    t.run_next();
    t.leave_cpu(RunState::Blocked);
    let killed: Vec<Pid> = t
        .kill_all(Ended::Killed(9))
        .into_iter()
        .map(|p| p.pid)
        .collect();
    assert_eq!(killed, [1, 2, 3]);
    assert!(t.run_next().is_none());
    assert_eq!(t.reap().len(), 3);
    assert_eq!(t.shutdown_status(), 137);
    assert!(t.kill_all(Ended::Killed(9)).is_empty());
}

#[derive(Debug, Clone)]
enum Op {
    Spawn,
    RunNext,
    Leave(RunState),
    Wake(u32),
    KillAll(u32),
    Reap,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        Just(Op::Spawn),
        Just(Op::RunNext),
        prop_oneof![
            Just(RunState::Ready),
            Just(RunState::Blocked),
            Just(RunState::Running),
            (0u8..3).prop_map(|c| RunState::Exited(Ended::Exited(c))),
        ]
        .prop_map(Op::Leave),
        (0u32..12).prop_map(Op::Wake),
        (1u32..3).prop_map(Op::KillAll),
        Just(Op::Reap),
    ]
}

/// The model: processes in pid order with their state, the queue, current.
#[derive(Default)]
struct Model {
    procs: Vec<(Pid, RunState)>,
    queue: VecDeque<Pid>,
    current: Option<Pid>,
    next: Pid,
    failure: Option<u32>,
}

impl Model {
    fn state(&mut self, pid: Pid) -> Option<&mut RunState> {
        self.procs.iter_mut().find(|p| p.0 == pid).map(|p| &mut p.1)
    }
}

proptest! {
    #[test]
    fn matches_the_model(ops in proptest::collection::vec(op(), 0..80)) {
        let mut t: ProcessTable<Pid> = ProcessTable::new();
        let mut m = Model { next: 1, ..Model::default() };
        for op in ops {
            match op {
                Op::Spawn => {
                    let pid = t.spawn("p", 0, m.next).unwrap();
                    prop_assert_eq!(pid, m.next);
                    m.procs.push((pid, RunState::Ready));
                    m.queue.push_back(pid);
                    m.next += 1;
                }
                Op::RunNext => {
                    let got = t.run_next().map(|p| (p.pid, p.context));
                    let want = if m.current.is_some() { None } else { m.queue.pop_front() };
                    prop_assert_eq!(got, want.map(|pid| (pid, pid)), "context follows pid");
                    if let Some(pid) = want {
                        *m.state(pid).unwrap() = RunState::Running;
                        m.current = Some(pid);
                    }
                }
                Op::Leave(s) => {
                    let got = t.leave_cpu(s).map(|p| p.pid);
                    prop_assert_eq!(got, m.current);
                    if let Some(pid) = m.current.take() {
                        let s = if s == RunState::Running { RunState::Ready } else { s };
                        *m.state(pid).unwrap() = s;
                        match s {
                            RunState::Ready => m.queue.push_back(pid),
                            RunState::Exited(e) if e.shell_status() != 0 => {
                                m.failure.get_or_insert(e.shell_status());
                            }
                            _ => {}
                        }
                    }
                }
                Op::Wake(pid) => {
                    let blocked = m.state(pid) == Some(&mut RunState::Blocked);
                    prop_assert_eq!(t.wake(pid), blocked);
                    if blocked {
                        *m.state(pid).unwrap() = RunState::Ready;
                        m.queue.push_back(pid);
                    }
                }
                Op::KillAll(st) => {
                    let got: Vec<Pid> =
                        t.kill_all(Ended::Killed(st)).into_iter().map(|p| p.pid).collect();
                    let cur = m.current;
                    let mut want = Vec::new();
                    for p in m.procs.iter_mut() {
                        if !matches!(p.1, RunState::Exited(_)) && Some(p.0) != cur {
                            p.1 = RunState::Exited(Ended::Killed(st));
                            want.push(p.0);
                        }
                    }
                    if !want.is_empty() {
                        m.failure.get_or_insert(128 + st);
                    }
                    m.queue.clear();
                    prop_assert_eq!(got, want);
                }
                Op::Reap => {
                    let got: Vec<Pid> = t.reap().into_iter().map(|p| p.pid).collect();
                    let want: Vec<Pid> = m
                        .procs
                        .iter()
                        .filter(|p| matches!(p.1, RunState::Exited(_)))
                        .map(|p| p.0)
                        .collect();
                    m.procs.retain(|p| !matches!(p.1, RunState::Exited(_)));
                    prop_assert_eq!(got, want);
                }
            }
            // Every process's state agrees, at most one runs, and it is current.
            prop_assert_eq!(t.len(), m.procs.len());
            for &(pid, s) in &m.procs {
                prop_assert_eq!(t.get(pid).map(|p| p.state), Some(s));
            }
            prop_assert_eq!(t.current().map(|p| p.pid), m.current);
            prop_assert_eq!(t.shutdown_status(), m.failure.unwrap_or(0));
        }
    }
}

#[test]
fn exhausted_pids_give_the_context_back() {
    let mut t: ProcessTable<&str> = ProcessTable::new();
    t.next_pid = Pid::MAX - 1;
    assert_eq!(t.spawn("last", 0, "a"), Ok(Pid::MAX - 1));
    assert_eq!(t.spawn("none", 0, "b"), Err("b"));
    assert_eq!(t.len(), 1);
}

/// Runs `pid` (which must be next in the queue) and ends it so.
fn end(t: &mut ProcessTable<()>, pid: Pid, ended: Ended) {
    while t.run_next().map(|p| p.pid) != Some(pid) {
        t.leave_cpu(RunState::Ready);
    }
    t.leave_cpu(RunState::Exited(ended));
}

#[test]
fn a_group_wait_sees_only_the_children_of_that_group() {
    let mut t: ProcessTable<()> = ProcessTable::new();
    let parent = t.spawn("sh", 0, ()).unwrap();
    let a = t.spawn("a", parent, ()).unwrap();
    let b = t.spawn("b", parent, ()).unwrap();
    // Live: a in group 10, b in group 20 (the kernel's lookup).
    let live = |pid: Pid| match pid {
        p if p == a => Some(10),
        p if p == b => Some(20),
        _ => None,
    };
    assert_eq!(
        t.ended_child(parent, WaitFor::Group(10), false, &live),
        Ok(None)
    );
    assert_eq!(
        t.ended_child(parent, WaitFor::Group(30), false, &live),
        Err(())
    );
    // b ends in group 20 (recorded: its Unix state, and so the lookup, is gone).
    t.get_mut(b).unwrap().group = Some(20);
    end(&mut t, b, Ended::Exited(2));
    let gone = |pid: Pid| (pid == a).then_some(10);
    assert_eq!(
        t.ended_child(parent, WaitFor::Group(10), false, &gone),
        Ok(None),
        "b is not in group 10"
    );
    assert_eq!(
        t.ended_child(parent, WaitFor::Group(20), false, &gone),
        Ok(Some((b, Ended::Exited(2))))
    );
    // As a zombie too.
    assert_eq!(t.reap().len(), 1);
    assert_eq!(
        t.ended_child(parent, WaitFor::Group(20), true, &gone),
        Ok(Some((b, Ended::Exited(2))))
    );
    assert_eq!(
        t.ended_child(parent, WaitFor::Group(20), true, &gone),
        Err(())
    );
    assert_eq!(t.ended_child(parent, WaitFor::Any, false, &gone), Ok(None));
}

#[test]
fn an_ended_child_waits_for_its_parent_as_a_zombie() {
    let mut t: ProcessTable<()> = ProcessTable::new();
    let parent = t.spawn("sh", 0, ()).unwrap();
    let a = t.spawn("a", parent, ()).unwrap();
    let b = t.spawn("b", parent, ()).unwrap();
    assert_eq!(
        t.ended_child(parent, WaitFor::Any, true, &|_| None),
        Ok(None)
    );
    assert_eq!(
        t.ended_child(a, WaitFor::Any, true, &|_| None),
        Err(()),
        "a has no child"
    );
    assert_eq!(
        t.ended_child(parent, WaitFor::Pid(99), true, &|_| None),
        Err(())
    );
    end(&mut t, a, Ended::Killed(11));
    assert_eq!(t.reap().len(), 1);
    assert_eq!(t.zombies().count(), 1);
    // Looking does not take; taking does, once.
    let want = Some((a, Ended::Killed(11)));
    assert_eq!(
        t.ended_child(parent, WaitFor::Any, false, &|_| None),
        Ok(want)
    );
    assert_eq!(
        t.ended_child(parent, WaitFor::Pid(a), true, &|_| None),
        Ok(want)
    );
    assert_eq!(
        t.ended_child(parent, WaitFor::Pid(a), true, &|_| None),
        Err(())
    );
    // An ended child not reaped yet is found too.
    end(&mut t, b, Ended::Exited(7));
    assert_eq!(
        t.ended_child(parent, WaitFor::Any, true, &|_| None),
        Ok(Some((b, Ended::Exited(7))))
    );
    assert!(t.reap().is_empty());
    assert_eq!(
        t.ended_child(parent, WaitFor::Any, true, &|_| None),
        Err(())
    );
    assert_eq!(Ended::Exited(7).wait_status(), 7 << 8);
    assert_eq!(Ended::Killed(11).wait_status(), 11);
    assert_eq!(Ended::Killed(11).shell_status(), 139);
    assert_eq!(
        t.shutdown_status(),
        0,
        "children's statuses are the parent's"
    );
}

#[test]
fn orphans_go_to_pid_1_and_their_zombies_are_forgotten() {
    let mut t: ProcessTable<()> = ProcessTable::new();
    let init = t.spawn("init", 0, ()).unwrap();
    let sh = t.spawn("sh", init, ()).unwrap();
    let job = t.spawn("job", sh, ()).unwrap();
    let done = t.spawn("done", sh, ()).unwrap();
    end(&mut t, done, Ended::Exited(0));
    t.reap();
    assert_eq!(t.zombies().count(), 1);
    end(&mut t, sh, Ended::Exited(0));
    assert_eq!(t.get(job).unwrap().ppid, init);
    assert_eq!(t.zombies().count(), 0, "nobody will wait for done");
    t.reap();
    assert_eq!(
        t.ended_child(init, WaitFor::Any, true, &|_| None),
        Ok(Some((sh, Ended::Exited(0))))
    );
    // init itself going leaves orphans without a parent: nobody waits, no zombie.
    end(&mut t, init, Ended::Exited(0));
    assert_eq!(t.get(job).unwrap().ppid, 0);
    end(&mut t, job, Ended::Exited(0));
    t.reap();
    assert_eq!((t.len(), t.zombies().count()), (0, 0));
}

#[test]
fn the_table_refuses_past_its_limit_zombies_included() {
    let mut t: ProcessTable<()> = ProcessTable::new();
    let parent = t.spawn("p", 0, ()).unwrap();
    for _ in 1..PROCESS_MAX {
        t.spawn("c", parent, ()).unwrap();
    }
    assert_eq!(t.spawn("one more", parent, ()), Err(()));
    end(&mut t, 2, Ended::Exited(0));
    t.reap();
    assert_eq!(
        t.spawn("one more", parent, ()),
        Err(()),
        "the zombie counts"
    );
    t.ended_child(parent, WaitFor::Pid(2), true, &|_| None)
        .unwrap();
    assert!(t.spawn("one more", parent, ()).is_ok());
}

#[test]
fn end_kills_a_process_off_the_cpu_only() {
    let mut t: ProcessTable<()> = ProcessTable::new();
    let a = t.spawn("a", 0, ()).unwrap();
    let b = t.spawn("b", a, ()).unwrap();
    let c = t.spawn("c", b, ()).unwrap();
    assert_eq!(t.run_next().unwrap().pid, a);
    assert!(t.end(a, Ended::Killed(2)).is_none(), "a is on the CPU");
    assert_eq!(t.end(b, Ended::Killed(2)).unwrap().pid, b);
    assert!(t.end(b, Ended::Killed(2)).is_none(), "already ended");
    assert_eq!(t.get(c).unwrap().ppid, a, "b's child goes to pid 1");
    assert_eq!(t.shutdown_status(), 0, "b had a parent");
    t.leave_cpu(RunState::Ready);
    assert_eq!(t.run_next().unwrap().pid, c, "b left the run queue");
    assert_eq!(t.end(99, Ended::Killed(9)).map(|p| p.pid), None);
}
