//! [`Client`]: what a program holds, and where its calls start.

use std::fmt;

use crate::call::{Caller, Settings};
use crate::endpoint::Endpoint;
use crate::fan_out::FanOut;
use crate::fluent::DescribeInvocationResults;
use crate::waiter::WaitForInvocation;
use crate::watch::WatchInvocation;
use ecs_credentials::SharedCredentialsProvider;

/// The ECS Cloud Assistant client. Cheap to clone (an `Arc`); share one per
/// process so connections and the retry budget are shared.
///
/// Build it with [`Client::builder`] or [`Client::from_env`].
#[derive(Clone)]
pub struct Client {
    caller: Caller,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Client").field(&self.caller).finish()
    }
}

impl Client {
    pub(crate) fn from_settings(settings: Settings) -> Self {
        Self {
            caller: Caller::new(settings),
        }
    }

    /// The engine the client's calls go through.
    pub(crate) fn caller(&self) -> &Caller {
        &self.caller
    }

    /// The credentials provider the client signs with.
    pub fn credentials_provider(&self) -> &SharedCredentialsProvider {
        &self.caller.settings().credentials
    }

    /// The endpoint requests go to.
    pub fn endpoint(&self) -> &Endpoint {
        &self.caller.settings().endpoint
    }

    /// The region, if configured.
    pub fn region(&self) -> Option<&str> {
        self.caller.settings().region.as_deref()
    }

    /// The user agent sent with every request.
    pub fn user_agent(&self) -> &str {
        &self.caller.settings().user_agent
    }

    /// Tokens left in the retry budget.
    pub fn retry_budget_available(&self) -> u32 {
        self.caller.retry_budget_available()
    }

    /// Starts a `DescribeInvocationResults` call: set parameters, then
    /// [`send`](DescribeInvocationResults::send) for one page or
    /// [`into_paginator`](DescribeInvocationResults::into_paginator) for all.
    pub fn describe_invocation_results(&self) -> DescribeInvocationResults {
        DescribeInvocationResults::new(self.caller.clone())
    }

    /// Starts waiting until every instance of `invoke_id` is in a final
    /// state; see [`WaitForInvocation`].
    pub fn wait_for_invocation(&self, invoke_id: impl Into<String>) -> WaitForInvocation {
        WaitForInvocation::new(self.caller.clone(), invoke_id.into())
    }

    /// Follows `invoke_id`: a stream of each instance's result, yielded
    /// once as it finishes, ending when none is running; see
    /// [`WatchInvocation`] (the waiter's settings through
    /// [`configure`](WatchInvocation::configure)).
    pub fn watch_invocation(&self, invoke_id: impl Into<String>) -> WatchInvocation {
        self.wait_for_invocation(invoke_id).watch()
    }

    /// Starts a call over many regions and requests at once, sharing this
    /// client's connections and retry budget; see [`FanOut`].
    pub fn fan_out(&self) -> FanOut {
        FanOut::new(self.caller.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RetryConfig;

    fn caller(endpoint: Option<&str>) -> Caller {
        let mut builder = Client::builder()
            .region("cn-hangzhou")
            .access_key("id", "secret")
            .retry_config(RetryConfig {
                budget_capacity: 50,
                ..RetryConfig::default()
            });
        if let Some(endpoint) = endpoint {
            builder = builder.endpoint(endpoint);
        }
        builder.build().unwrap().caller().clone()
    }

    #[test]
    fn a_caller_for_another_region_shares_the_budget_and_resolves_its_endpoint() {
        let hangzhou = caller(None);
        let beijing = hangzhou.for_region("cn-beijing").unwrap();
        assert_eq!(beijing.settings().region.as_deref(), Some("cn-beijing"));
        assert_eq!(
            beijing.settings().endpoint.to_string(),
            "https://ecs.cn-beijing.aliyuncs.com"
        );
        assert!(hangzhou.spend_budget(20));
        assert_eq!(beijing.retry_budget_available(), 30, "one budget");
        // An explicit endpoint serves every region.
        let local = caller(Some("http://127.0.0.1:9"))
            .for_region("cn-beijing")
            .unwrap();
        assert_eq!(local.settings().endpoint.to_string(), "http://127.0.0.1:9");
        let err = hangzhou.for_region("cn hangzhou").unwrap_err();
        assert!(err.to_string().contains("not a region id"), "{err}");
    }
}
