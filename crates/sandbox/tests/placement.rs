//! The placement moves Portico's own threads: a test binary of its own, because it re-pins
//! every thread of the process it runs in.

use portico_sandbox::CpuPlacement;
use portico_sandbox::placement::Mode;

/// The CPUs each thread of this process may use, as the kernel reports them.
fn own_threads_cpus() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("status")).ok())
        .filter_map(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("Cpus_allowed_list:"))
                .map(|cpus| cpus.trim().to_owned())
        })
        .collect()
}

#[test]
fn busy_workers_take_the_last_cpu_and_give_it_back_when_idle() {
    let before = own_threads_cpus();
    let Some(placement) = CpuPlacement::reserve(1) else {
        eprintln!("a single CPU: nothing to set aside");
        return;
    };
    // Nothing moves until the workers are busy.
    assert_eq!(own_threads_cpus(), before);
    // A helper thread that exists when the mode changes moves with the rest.
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    let helper = std::thread::spawn(move || stopped.recv());

    placement.set_mode(Mode::Confined);
    // The highest CPU of a list such as "0-1" or "0,2,5".
    let last = before[0].rsplit([',', '-']).next().unwrap().to_owned();
    let confined = own_threads_cpus();
    assert!(confined.len() >= 2, "{confined:?}");
    assert!(confined.iter().all(|c| *c == last), "{confined:?}");

    placement.set_mode(Mode::Shared);
    assert_eq!(own_threads_cpus(), vec![before[0].clone(); confined.len()]);

    stop.send(()).unwrap();
    helper.join().unwrap().unwrap();
}
