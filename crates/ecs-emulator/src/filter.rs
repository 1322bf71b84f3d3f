//! What a query selects: the region and every filter parameter, checked,
//! and the text a NextToken is bound to.

/// A checked filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Filter {
    pub(crate) region_id: String,
    pub(crate) invoke_id: Option<String>,
    pub(crate) instance_id: Option<String>,
    pub(crate) command_id: Option<String>,
    /// The `InvokeRecordStatus` asked for, spelt as the API does.
    pub(crate) record_status: Option<&'static str>,
    pub(crate) include_history: bool,
    pub(crate) resource_group_id: Option<String>,
    /// `Tag.N.Key` and `Tag.N.Value`: no value means any value (every
    /// resource with the key), an empty one means the empty value.
    pub(crate) tags: Vec<(String, Option<String>)>,
}

impl Filter {
    /// The per-result record status this filter lists, if it asks for one:
    /// `Success` and `Finished` are the same results (a succeeded result is
    /// listed as finished); `PartialFailed` describes a whole invocation,
    /// never one result.
    pub(crate) fn status_class(&self) -> Option<&'static str> {
        self.record_status.map(|wanted| match wanted {
            "Success" => "Finished",
            other => other,
        })
    }

    /// The filter as text: what a NextToken is bound to.
    pub(crate) fn fingerprint(&self) -> String {
        let mut text = format!(
            "{}\n{:?}\n{:?}\n{:?}\n{:?}\n{}\n{:?}\n",
            self.region_id,
            self.invoke_id,
            self.instance_id,
            self.command_id,
            self.record_status,
            self.include_history,
            self.resource_group_id
        );
        for (k, v) in &self.tags {
            // Quoted, so that no key and value read as another pair.
            text.push_str(&format!("{k:?}={v:?}\n"));
        }
        text
    }
}
