//! Prints what following 1,000 instances costs, as the Markdown section of
//! BENCHMARKS.md: requests and response bytes per finished result for the
//! watch stream (instances finishing in listing order and shuffled) and for
//! plain polling of every result each interval.
//!
//! `cargo run --release -p ecs-assist --example follow_cost` (about a
//! second: the emulator and the client share a manual clock).

#![allow(clippy::print_stdout, clippy::expect_used)]

mod measure;

use measure::{Cost, How, Order, measure};

const INSTANCES: usize = 1_000;

fn row(what: &str, c: &Cost, how: How) {
    let per = |n: u64| n as f64 / c.results.max(1) as f64;
    let fetches = c
        .requests
        .saturating_sub(c.running_pages)
        .saturating_sub(c.first_listing_pages);
    // Plain polling lists every result each poll: the watch's columns do
    // not apply.
    let watch = |n: u64| match how {
        How::Watch | How::WatchFewerRequests => n.to_string(),
        How::PlainPolling => "-".to_owned(),
    };
    println!(
        "| {what} | {} | {} | {} | {} | {} | {:.3} | {:.0} B | {} |",
        c.polls,
        c.requests,
        watch(c.first_listing_pages),
        watch(c.running_pages),
        watch(fetches),
        per(c.requests),
        per(c.bytes),
        if c.most_downloads_of_one_output == 0 {
            "-".to_owned()
        } else {
            c.most_downloads_of_one_output.to_string()
        },
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let listing = measure(INSTANCES, Order::Listing, How::Watch).await;
    let shuffled = measure(INSTANCES, Order::Shuffled, How::Watch).await;
    let fewer_listing = measure(INSTANCES, Order::Listing, How::WatchFewerRequests).await;
    let fewer_shuffled = measure(INSTANCES, Order::Shuffled, How::WatchFewerRequests).await;
    let plain = measure(INSTANCES, Order::Listing, How::PlainPolling).await;
    println!("## Following 1,000 instances\n");
    println!(
        "1,000 instances finish one every 20 ms from 1 s on (about 21 s), polled every \
         second; 200-byte outputs, Base64 on the wire. Counted at the transport \
         (`cargo run --release -p ecs-assist --example follow_cost`; the emulator and the \
         client share a manual clock, so the counts are the same on every run).\n"
    );
    println!(
        "| how | polls | requests | first listing | pages of running records | fetches of what \
         left the running set | requests per finished result | response bytes per finished \
         result | most downloads of one finished output |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    row(
        "`watch_invocation`, finishing in listing order",
        &listing,
        How::Watch,
    );
    row(
        "`watch_invocation`, finishing in a shuffled order",
        &shuffled,
        How::Watch,
    );
    row(
        "`watch_invocation` with `fewer_requests(true)`, listing order",
        &fewer_listing,
        How::WatchFewerRequests,
    );
    row(
        "`watch_invocation` with `fewer_requests(true)`, shuffled order",
        &fewer_shuffled,
        How::WatchFewerRequests,
    );
    row(
        "plain polling (`wait_for_invocation`, every result each poll)",
        &plain,
        How::PlainPolling,
    );
    let fetches = |c: &Cost| {
        c.requests
            .saturating_sub(c.running_pages)
            .saturating_sub(c.first_listing_pages)
    };
    let per_fetch = listing.results as f64 / fetches(&listing).max(1) as f64;
    let per_poll = fetches(&listing) as f64 / listing.polls.max(1) as f64;
    println!(
        "\nThe watch lists every result once (the first poll), then each poll lists only the \
         records still running and fetches each record that left that set once: alone by \
         `InstanceId`, or several neighbours as one page when at least half of the page left \
         and none of it finished before (the fewest such pages). So each finished output is \
         downloaded once. When instances finish in listing order, that is one page per \
         {per_fetch:.0} finished results ({per_poll:.1} a poll: pages are addressed by number \
         and size, so a run that starts at an awkward position takes two or three); in a \
         shuffled order it is about one request per finished result (the API filters by one \
         `InstanceId` at most), still with each output downloaded once and about 40% of the \
         bytes of plain polling, but more requests than it. With `fewer_requests(true)` \
         (CLI `--fewer-requests`) a poll lists every result again whenever that takes fewer \
         requests than the running set and its fetches: about plain polling's requests in a \
         shuffled order, never more than without it in listing order, at the price of \
         downloading finished outputs again."
    );
}
