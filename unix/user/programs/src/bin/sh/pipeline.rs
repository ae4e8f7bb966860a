//! Running commands: a pipeline of stages (`a | b | c`), each a builtin or a
//! program of `/bin` (or a path), with its redirections (`<`, `>`, `>>`,
//! `2>&1`). A lone builtin without redirections runs in the shell itself (so
//! `cd` and `exit` work); anything else runs in forked children, a program
//! through `execve`. The pipeline's status is its last stage's; a stage
//! killed by a signal is reported as a shell reports it (`Segmentation fault`)
//! with status 128 + the signal. At a terminal each job is a process group of
//! its own and holds the terminal while it runs, so Ctrl-C and Ctrl-\ end the
//! job, while the shell ignores them.

use super::*;
use ulibc::sys::ChildEnd;

/// Most stages in one pipeline.
pub(crate) const MAX_STAGES: usize = 16;

/// One stage: its tokens.
struct Stage<'t> {
    tokens: &'t [Token],
}

impl Stage<'_> {
    /// Its words that are arguments (not a redirection's file).
    fn argv<'w>(&self, words: &'w Words, out: &mut [&'w [u8]; MAX_WORDS]) -> usize {
        let mut n = 0;
        let mut skip = false;
        for &t in self.tokens {
            match t {
                Token::Word(..) if skip => skip = false,
                Token::Word(..) => {
                    out[n] = words.word(t);
                    n += 1;
                }
                Token::From | Token::To | Token::Append => skip = true,
                _ => {}
            }
        }
        n
    }

    fn has_redirections(&self) -> bool {
        self.tokens
            .iter()
            .any(|t| matches!(t, Token::From | Token::To | Token::Append | Token::ErrToOut))
    }
}

/// The stages of the command in `words` (split at `|`); `None` (reported)
/// past [`MAX_STAGES`].
fn split_stages(words: &Words) -> Option<([Stage<'_>; MAX_STAGES], usize)> {
    let tokens = &words.tokens[..words.count];
    let mut stages: [Stage<'_>; MAX_STAGES] = core::array::from_fn(|_| Stage { tokens: &[] });
    let mut n = 0;
    for part in tokens.split(|t| *t == Token::Pipe) {
        if n == MAX_STAGES {
            eprintln!("sh: too many commands in a pipeline (at most {MAX_STAGES})");
            return None;
        }
        stages[n] = Stage { tokens: part };
        n += 1;
    }
    Some((stages, n))
}

/// What a shell prints for a child killed by `signal` (nothing for the ones a
/// user expects: SIGPIPE, SIGINT).
fn signal_message(signal: u32) -> Option<&'static str> {
    Some(match signal {
        4 => "Illegal instruction",
        5 => "Trace/breakpoint trap",
        6 => "Aborted",
        8 => "Floating point exception",
        9 => "Killed",
        10 => "Bus error",
        2 => "",
        3 => "Quit",
        11 => "Segmentation fault",
        15 => "Terminated",
        _ => return None,
    })
}

/// Waits for child `pid`; its status as `$?` shows it (128 + a signal, which
/// is reported the way shells do).
fn wait_for(pid: u32) -> i32 {
    match sys::waitpid(pid as i32, 0) {
        Ok(Some((_, ChildEnd::Exited(code)))) => i32::from(code),
        Ok(Some((_, ChildEnd::Signaled(signal)))) => {
            match signal_message(signal) {
                // Ctrl-C: the terminal already shows ^C.
                Some("") | None => {}
                Some(text) => eprintln!("{text}"),
            }
            128 + signal as i32
        }
        _ => 1,
    }
}

/// In a forked child, before its command: the default action again for the
/// signals the shell ignores, the job's process group (`None`: a group of
/// its own, the job's first process) and, for a foreground job, the
/// terminal — taken here as well as given by the shell, so that a Ctrl-C
/// typed as soon as the program runs reaches it whichever of the two ran
/// first after the fork.
fn enter_job(interactive: bool, group: Option<u32>, foreground: bool) {
    if interactive {
        let _ = sys::signal(SIGINT, sys::Disposition::Default);
        let _ = sys::signal(SIGQUIT, sys::Disposition::Default);
        let _ = sys::setpgid(0, group.unwrap_or(0));
        if let (true, Ok(me)) = (foreground, sys::getpgrp()) {
            let _ = sys::tcsetpgrp(STDIN, me);
        }
    }
}

impl Shell {
    /// At a terminal: lead a process group of our own, hold the terminal, and
    /// let Ctrl-C / Ctrl-\ pass us by (they are for the jobs).
    pub(crate) fn take_terminal(&mut self) {
        self.interactive = true;
        let _ = sys::signal(SIGINT, sys::Disposition::Ignore);
        let _ = sys::signal(SIGQUIT, sys::Disposition::Ignore);
        let _ = sys::setpgid(0, 0);
        let _ = sys::tcsetpgrp(STDIN, self.pid);
    }

    /// The terminal goes to job `group` (`Some`), or back to the shell.
    fn give_terminal(&self, group: Option<u32>) {
        if self.interactive {
            let _ = sys::tcsetpgrp(STDIN, group.unwrap_or(self.pid));
        }
    }

    /// Runs the command whose tokens `words` holds (one command: no `;`).
    pub(crate) fn run_command(&mut self, words: &Words) -> i32 {
        let Some((stages, n)) = split_stages(words) else {
            return 2;
        };
        let mut argv: [&[u8]; MAX_WORDS] = [&[]; MAX_WORDS];
        for stage in &stages[..n] {
            if stage.argv(words, &mut argv) == 0 {
                eprintln!("sh: syntax error: a command is missing");
                return 2;
            }
            let dangling = stage.tokens.windows(2).any(|w| {
                matches!(w[0], Token::From | Token::To | Token::Append)
                    && !matches!(w[1], Token::Word(..))
            }) || matches!(
                stage.tokens.last(),
                Some(Token::From | Token::To | Token::Append)
            );
            if dangling {
                eprintln!("sh: syntax error: a redirection without a file");
                return 2;
            }
        }
        if n == 1 && !stages[0].has_redirections() {
            let argc = stages[0].argv(words, &mut argv);
            if let Some(b) = BUILTINS.iter().find(|b| b.0.as_bytes() == argv[0]) {
                return (b.3)(self, &argv[..argc]);
            }
        }
        self.run_pipeline(words, &stages[..n])
    }

    fn run_pipeline(&mut self, words: &Words, stages: &[Stage<'_>]) -> i32 {
        let (pids, started) = self.start_pipeline(words, stages, true);
        let mut status = 1;
        for (k, &pid) in pids[..started].iter().enumerate() {
            let code = wait_for(pid);
            if k + 1 == stages.len() {
                status = code;
            }
        }
        self.give_terminal(None);
        status
    }

    /// Runs the command of `words` in the background (`&`): started, not
    /// waited for; it is job N (`[N] pid` is printed) until `wait` or the next
    /// prompt sees it end. Its input is `/dev/null` unless redirected.
    pub(crate) fn run_background(&mut self, words: &Words) -> i32 {
        let Some((stages, n)) = split_stages(words) else {
            return 2;
        };
        let (pids, started) = self.start_pipeline(words, &stages[..n], false);
        if started == 0 {
            return 1;
        }
        let last = pids[started - 1];
        match self.jobs.iter_mut().find(|j| j.1 == 0) {
            Some(slot) => {
                *slot = (self.next_job, last);
                println!("[{}] {last}", self.next_job);
                self.next_job += 1;
            }
            None => eprintln!("sh: too many jobs: {last} runs untracked"),
        }
        0
    }

    /// Reports (`[N] Done`) and forgets the background jobs that have ended.
    pub(crate) fn report_done_jobs(&mut self) {
        for job in self.jobs.iter_mut().filter(|j| j.1 != 0) {
            if let Ok(Some((_, end))) = sys::waitpid(job.1 as i32, WNOHANG) {
                match end {
                    ChildEnd::Exited(0) => println!("[{}] Done", job.0),
                    ChildEnd::Exited(code) => println!("[{}] Exit {code}", job.0),
                    ChildEnd::Signaled(sig) => println!("[{}] Killed by signal {sig}", job.0),
                }
                *job = (0, 0);
            }
        }
    }

    /// `wait [PID]`: waits for the background jobs (or the one whose last
    /// process is PID); the status of the last one waited for.
    pub(crate) fn wait_jobs(&mut self, only: Option<u32>) -> i32 {
        let mut status = 0;
        for job in self.jobs.iter_mut().filter(|j| j.1 != 0) {
            if only.is_some_and(|p| p != job.1) {
                continue;
            }
            status = wait_for(job.1);
            *job = (0, 0);
        }
        // Children not tracked as jobs (earlier stages of a pipeline).
        if only.is_none() {
            while let Ok(Some(_)) = sys::waitpid(-1, 0) {}
        }
        status
    }

    /// Forks the stages of a pipeline, joined by pipes; in the foreground the
    /// job gets the terminal. Returns the pids and how many started.
    fn start_pipeline(
        &mut self,
        words: &Words,
        stages: &[Stage<'_>],
        foreground: bool,
    ) -> ([u32; MAX_STAGES], usize) {
        let mut pids = [0u32; MAX_STAGES];
        let mut started = 0;
        let mut input: Option<Fd> = None;
        for (k, stage) in stages.iter().enumerate() {
            let pipe = if k + 1 < stages.len() {
                match sys::pipe() {
                    Ok(p) => Some(p),
                    Err(e) => {
                        eprintln!("sh: pipe: {e}");
                        break;
                    }
                }
            } else {
                None
            };
            let group = (started > 0).then_some(pids[0]);
            match sys::fork() {
                Ok(0) => {
                    enter_job(self.interactive, group, foreground);
                    let quiet_input = !foreground && k == 0;
                    let null = quiet_input.then(|| sys::open(c"/dev/null", O_RDONLY, 0).ok());
                    if let Some(Some(null)) = null {
                        let _ = sys::dup2(null, STDIN);
                        let _ = sys::close(null);
                    }
                    if let Some(fd) = input {
                        let _ = sys::dup2(fd, STDIN);
                        let _ = sys::close(fd);
                    }
                    if let Some((r, w)) = pipe {
                        let _ = sys::dup2(w, STDOUT);
                        let _ = (sys::close(w), sys::close(r));
                    }
                    sys::_exit(self.run_stage(words, stage))
                }
                Ok(pid) => {
                    pids[started] = pid;
                    if started == 0 && foreground {
                        self.give_terminal(Some(pid));
                    }
                    started += 1;
                }
                Err(e) => eprintln!("sh: fork: {e}"),
            }
            if let Some(fd) = input.take() {
                let _ = sys::close(fd);
            }
            if let Some((r, w)) = pipe {
                let _ = sys::close(w);
                input = Some(r);
            }
        }
        if let Some(fd) = input {
            let _ = sys::close(fd);
        }
        (pids, started)
    }

    /// Runs `argv` as one command without redirections: a builtin in the shell,
    /// a program in a child (`time`'s way to run its command).
    pub(crate) fn run(&mut self, argv: &[&[u8]]) -> i32 {
        if let Some(b) = BUILTINS.iter().find(|b| b.0.as_bytes() == argv[0]) {
            return (b.3)(self, argv);
        }
        match sys::fork() {
            Ok(0) => {
                enter_job(self.interactive, None, true);
                sys::_exit(self.exec_program(argv))
            }
            Ok(pid) => {
                self.give_terminal(Some(pid));
                let status = wait_for(pid);
                self.give_terminal(None);
                status
            }
            Err(e) => {
                eprintln!("sh: fork: {e}");
                1
            }
        }
    }

    /// In a forked child: the stage's redirections, then its command. Returns
    /// the exit status (a program replaces the child instead).
    fn run_stage(&mut self, words: &Words, stage: &Stage<'_>) -> i32 {
        let mut it = stage.tokens.iter().peekable();
        while let Some(&t) = it.next() {
            let (flags, to) = match t {
                Token::From => (O_RDONLY, STDIN),
                Token::To => (O_WRONLY | O_CREAT | O_TRUNC, STDOUT),
                Token::Append => (O_WRONLY | O_CREAT | O_APPEND, STDOUT),
                Token::ErrToOut => {
                    let _ = sys::dup2(STDOUT, STDERR);
                    continue;
                }
                _ => continue,
            };
            let Some(&&file) = it.peek() else {
                return 2;
            };
            it.next();
            let name = words.word(file);
            let opened = self
                .resolve(name)
                .and_then(|p| p.with_c(|c| sys::open(c, flags, 0o644)));
            match opened {
                Ok(fd) => {
                    let _ = sys::dup2(fd, to);
                    let _ = sys::close(fd);
                }
                Err(e) => {
                    eprintln!("sh: {}: {e}", Bytes(name));
                    return 1;
                }
            }
        }
        let mut argv: [&[u8]; MAX_WORDS] = [&[]; MAX_WORDS];
        let argc = stage.argv(words, &mut argv);
        let argv = &argv[..argc];
        if let Some(b) = BUILTINS.iter().find(|b| b.0.as_bytes() == argv[0]) {
            return (b.3)(self, argv);
        }
        self.exec_program(argv)
    }

    /// Replaces this (forked) process with the program `argv[0]`: a path if it
    /// holds a `/`, else `/bin/<name>`. Returns only the failure's status.
    fn exec_program(&self, argv: &[&[u8]]) -> i32 {
        let name = argv[0];
        let path = if name.contains(&b'/') {
            self.resolve(name)
        } else {
            let mut p = Path::new(b"/bin");
            p.push(name).map(|()| p)
        };
        let env = self.vars.environment();
        let env: alloc::vec::Vec<&[u8]> = env.iter().map(alloc::vec::Vec::as_slice).collect();
        // Jobs get the user's process limit; the shell keeps room above it.
        let _ = sys::setrlimit(ulibc::types::RLIMIT_NPROC, self.job_nproc);
        let e = match path {
            Ok(p) => sys::execve(p.bytes(), argv, &env),
            Err(e) => e,
        };
        if e == Errno::ENOENT && !name.contains(&b'/') {
            eprintln!("sh: {}: command not found", Bytes(name));
        } else {
            eprintln!("sh: {}: {e}", Bytes(name));
        }
        if e == Errno::ENOENT { 127 } else { 126 }
    }
}
