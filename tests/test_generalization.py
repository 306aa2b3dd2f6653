"""The ways a report becomes a category when it does not match a catalog sentence line for line:
the logical text, loosened patterns, error codes, partial signatures and the vocabulary fallback."""

from __future__ import annotations

import re

from conftest import diagnose_source

from aib_doctor.core.logical import LogicalText, loosen, strip_prefixes, unescape


def test_a_message_wrapped_at_a_word_boundary_is_matched_with_its_real_lines():
    text = "Deployment failed. Details: Update/Upgrade of image\ntemplates is currently not supported (CODE: 409)"
    report = diagnose_source("input", text)
    assert report.primary.rule == "AIB001"
    assert report.primary.evidence[0].line == 1


def test_a_terminal_wrap_inside_a_word_is_undone():
    message = "The client does not have authorization to perform action 'Microsoft.Compute/images/write' over scope '/subscriptions/x'"
    wrapped = "\n".join(message[i : i + 40] for i in range(0, len(message), 40))
    assert diagnose_source("input", wrapped).primary.category == "permissions"


def test_powershell_7_error_view_bars_and_markdown_quotes_are_stripped():
    assert strip_prefixes("     | Info:'Deployment failed.") == "Info:'Deployment failed."
    assert strip_prefixes("> > Packer build command has failed") == "Packer build command has failed"
    assert strip_prefixes("[5d2e8a1c-7b3f-4e9a-8c6d-1f2e3a4b5c6d] PACKER OUT ==> azure-arm: Timeout waiting for WinRM.") == "Timeout waiting for WinRM."


def test_markdown_bold_around_words_is_dropped_but_not_globs_or_dunders():
    assert strip_prefixes("> perl: **warning**: Setting locale failed.") == "perl: warning: Setting locale failed."
    assert strip_prefixes("**Error**: the build failed") == "Error: the build failed"
    for text in ("copy src/**/*.ps1 to the VM", "__init__.py: SyntaxError", "2 ** 10 bytes", "a *b* c"):
        assert strip_prefixes(text) == text
    assert diagnose_source("input", "The build prints **AuthorizationFailed**: The client 'x' does not have authorization").primary.category == "permissions"


def test_json_escapes_are_undone_twice_and_newlines_split():
    assert unescape('{\\"message\\": \\"a\\\\nb \\u0026 c\\"}') == '{"message": "a\nb & c"}'


def test_logical_forms_map_offsets_back_to_physical_lines():
    logical = LogicalText([(7, "x" * 50 + " first half of a"), (8, "message that was wrapped"), (9, "")])
    for form in logical.forms:
        m = re.search(r"half\s*of\s*a\s*message", form[0])
        assert LogicalText.lines_of(form, m.start(), m.end()) == (7, 8)


def test_loosened_patterns_accept_spaced_camelcase_other_quotes_and_no_colon():
    pattern = re.compile(loosen('Code="AuthorizationFailed": the client'))
    assert pattern.search("code=\u201cAuthorization Failed\u201d the client")
    assert not pattern.search("Code=Authorised")


def test_the_innermost_specific_code_wins_over_its_wrappers():
    text = '{"code": "DeploymentFailed", "details": [{"code": "BadRequest", "message": "{\\"error\\": {\\"code\\": \\"LinkedAuthorizationFailed\\"}}"}]}'
    report = diagnose_source("input", text)
    assert report.primary.category == "permissions" and report.primary.basis == "error-code"
    assert report.primary.confidence == "medium"
    assert "AIB105" in {f.rule for f in report.findings}


def test_a_code_in_storages_xml_error_body_counts_where_codes_stand():
    # <Code>Conflict</Code> is a code where codes stand; the same word in a sentence is not
    report = diagnose_source("input", "<Error><Code>Conflict</Code><Message>The request conflicts with the current state.</Message></Error>")
    assert report.primary.rule == "AIB106" and report.primary.basis == "error-code"
    assert all(f.rule != "AIB106" for f in diagnose_source("input", "No conflict with the current state was found.").findings)


def test_a_marketplace_purchase_failure_is_named_by_its_inner_detail():
    # MarketplacePurchaseEligibilityFailed wraps terms not accepted and offers that are gone alike
    gone = (
        '{\n  "code": "MarketplacePurchaseEligibilityFailed",\n  "details": [{"code": "BadRequest", "message": '
        "\"Offer with PublisherId: 'kali-linux', OfferId: 'kali' and PlanId: kali-2023-3 was removed from the marketplace for new purchase.\"}]\n}"
    )
    terms = gone.replace(
        "was removed from the marketplace for new purchase",
        "cannot be purchased due to validation errors. Legal terms have not been accepted for this item on this subscription",
    )
    assert diagnose_source("input", gone).primary.category == "source_image"
    assert diagnose_source("input", terms).primary.category == "subscription_setup"


def test_an_az_cmdlets_error_record_is_the_clients_not_a_customizers():
    # The record's FullyQualifiedErrorId names the Az cmdlet; its "At ...ps1" line, wrapped, does not.
    # AIB077's veto on that line must hold although the same words are also its `unless`.
    text = (
        "New-AzResourceGroupDeployment : Resource Microsoft.Compute/virtualMachines 'vm-0' failed with message '{\n"
        '  "error": {\n    "code": "PropertyChangeNotAllowed",\n'
        '    "message": "Changing property \'imageReference.id\' is not allowed."\n  }\n}\'\n'
        "At C:\\Users\\someone\n(F921DD46)\\Desktop\\deploy.ps1:123 char:5\n"
        "+     New-AzResourceGroupDeployment -ResourceGroupName $rg ...\n"
        "    + CategoryInfo          : NotSpecified: (:) [New-AzResourceGroupDeployment], Exception\n"
        "    + FullyQualifiedErrorId : Microsoft.Azure.Commands.ResourceManager.Cmdlets.Implementation.NewAzureResourceGroupDeploymentCmdlet\n"
    )
    report = diagnose_source("input", text)
    assert report.primary.category == "template_conflict"
    assert "AIB077" not in {f.rule for f in report.findings}


def test_a_distinctive_line_alone_fires_its_rule_as_partial():
    text = "[INFO] command 'powershell -file C:/Windows/Temp/script.ps1' exited with code: 5"
    report = diagnose_source("customization.log", text)
    assert report.primary.rule == "AIB055" and report.primary.basis == "partial" and report.primary.confidence == "medium"


def test_vocabulary_names_the_category_of_an_error_no_rule_knows():
    text = "ERROR: the build VM could not be reached over WinRM: the NSG on the subnet drops port 5986 traffic"
    report = diagnose_source("input", text)
    assert report.primary.category == "network"
    assert report.primary.basis == "vocabulary" and report.primary.confidence == "low"
    assert report.primary.evidence[0].line == 1
    assert "Terms that point here" in report.primary.cause


def test_no_guess_without_error_content_or_when_the_text_ends_in_success():
    assert diagnose_source("input", "Waiting for WinRM to become available over the subnet and the NSG").primary is None
    retried = "ERROR: WinRM connection dial tcp i/o timeout, retrying\nWinRM connected.\nBuild 'azure-arm' finished after 31 minutes."
    assert diagnose_source("input", retried).primary is None


def test_errors_an_installer_calls_safe_to_ignore_are_no_error_content():
    # Chocolatey's bootstrap prints this in every Windows build that installs it
    text = (
        "WARNING: You can safely ignore errors related to missing log files when\n"
        "  upgrading from a version of Chocolatey less than 0.9.9.\n"
        "  'Batch file could not be found' is also safe to ignore.\n"
        "  'The system cannot find the file specified' - also safe.\n"
    )
    assert diagnose_source("input", text).primary is None
    assert diagnose_source("input", text + "ERROR: The install of git was NOT successful.\n").primary.category == "customizer_failed"


def test_a_rules_exception_wrapped_onto_the_next_line_still_counts():
    # AIB050 (terms not accepted) is unless the offer itself is gone; here the "not found" is on the next line
    text = (
        '> Original Error: Code="ResourcePurchaseValidationFailed" Message="User failed validation to purchase resources. '
        "Error message: 'The offer with Offer ID 'centos-8-gen2' was not\n"
        "> found. Try one of these: 1- Make sure the offer name is written correctly.'\"\n"
    )
    assert diagnose_source("input", text).primary.rule == "AIB076"
    terms = text.replace("was not\n> found. Try one of these", "cannot be purchased:\n> accept its terms first. Try one of these")
    assert diagnose_source("input", terms).primary.rule == "AIB050"


def test_a_benign_line_is_no_evidence_for_another_rule():
    line = 'PACKER OUT ==> azure-arm: Error deleting resource. Will retry. StatusCode=400 Code="PublicIPAddressCannotBeDeleted"'
    report = diagnose_source("customization.log", line)
    assert report.primary is None
    assert {f.rule for f in report.findings} == {"AIB020"}


def test_a_benign_line_explains_the_rest_of_its_powershell_error_record():
    # AIB183's line heads the record; its position, category and error id lines are not a failure either
    text = (
        "==> vhd: . : The term 'c:/Windows/Temp/packer-ps-env-vars-61ea9b1c-521e-256d-aac7-b07dd321060d.ps1' is not recognized as the\n"
        "==> vhd: name of a cmdlet, function, script file, or operable program.\n"
        "==> vhd: At line:1 char:138\n"
        "==> vhd:     + CategoryInfo          : ObjectNotFound: (c:/Windows/Temp...7dd321060d.ps1:String) [], CommandNotFoundException\n"
        "==> vhd:     + FullyQualifiedErrorId : CommandNotFoundException\n"
    )
    report = diagnose_source("input", text)
    assert report.primary is None and report.status != "failed"
    assert [f.rule for f in report.findings] == ["AIB183"]
    # a record that follows, of another error, is still one
    later = diagnose_source(
        "input", text + "    azure-arm: Install-Thing : Access is denied.\n    azure-arm:     + FullyQualifiedErrorId : UnauthorizedAccess\n"
    )
    assert later.primary is not None and later.primary.category == "customizer_failed"


def test_a_benign_rule_explains_every_line_it_matches_not_only_its_evidence():
    firmware = "".join(f"W: Possible missing firmware /lib/firmware/i915/fw_{n}.bin for module i915\n" for n in range(12))
    report = diagnose_source("input", "update-initramfs: Generating /boot/initrd.img-6.12.12\n" + firmware)
    assert report.primary is None and report.status != "failed"


def test_a_benign_line_followed_by_another_error_heads_no_record():
    text = (
        "    azure-arm: The term 'c:/Windows/Temp/packer-ps-env-vars-61ea9b1c-521e-256d-aac7-b07dd321060d.ps1' is not recognized\n"
        "    azure-arm: Install-Thing : Access is denied.\n"
        "    azure-arm:     + CategoryInfo          : PermissionDenied: (:) [Install-Thing], UnauthorizedAccessException\n"
        "    azure-arm:     + FullyQualifiedErrorId : UnauthorizedAccess\n"
    )
    report = diagnose_source("input", text)
    assert report.primary is not None and report.primary.category == "customizer_failed"


def test_a_paste_that_ends_in_success_after_its_errors_is_no_failure():
    text = (
        '07:27:55 WARNING Terraform failed with "RetryableError" error. Retry: 2/3\n'
        '07:28:10 ERROR Code="InternalServerError" while reading the image template\n'
        "07:29:22 INFO Apply complete! Resources: 1 added, 26 changed, 0 destroyed.\n"
    )
    report = diagnose_source("input", text)
    assert report.status == "succeeded" and report.primary is None
    failed_late = text + '07:30:01 ERROR Code="AuthorizationFailed" on the next step\n'
    assert diagnose_source("input", failed_late).primary.category == "permissions"


def test_a_structured_log_line_at_info_or_warning_level_is_no_error_content():
    skipped = (
        'containerd[482]: time="2016-12-19T14:47:44Z" level=info msg="loading plugin io.containerd.snapshotter.v1.zfs"\n'
        'containerd[482]: time="2016-12-19T14:47:44Z" level=warning msg="failed to load plugin io.containerd.snapshotter.v1.zfs" '
        'error="path /var/lib/containerd/io.containerd.snapshotter.v1.zfs must be a zfs filesystem"\n'
    )
    assert diagnose_source("input", skipped).primary is None
    # the same message at error level is one, and so is one at debug level, where some tools log what they act on
    for level in ("error", "debug"):
        assert diagnose_source("input", skipped.replace("level=warning", f"level={level}")).status == "failed"


def test_a_unit_that_failed_to_start_and_then_runs_is_no_failure():
    text = (
        "$ sudo systemctl start docker\n"
        "Job for docker.service failed because the control process exited with error code.\n"
        "$ sudo systemctl restart docker\n"
        "$ sudo systemctl status docker\n"
        "* docker.service - Docker Application Container Engine\n"
        "   Active: active (running) since Mon 2021-04-19 23:04:51 UTC; 6s ago\n"
    )
    assert diagnose_source("input", text).primary is None
    assert diagnose_source("input", text.replace("active (running)", "failed (Result: exit-code)")).status == "failed"


def test_a_package_managers_own_success_line_ends_a_text_in_success():
    npm = "npm WARN EBADENGINE Unsupported engine {\nnpm ERR! code EBADENGINE (ignored)\nadded 116 packages, and audited 117 packages in 5s\n"
    assert diagnose_source("input", npm).primary is None
    # an error a package's script printed and Chocolatey tolerated; it counts every package installed
    tolerated = "ERROR: Access to the path 'C:\\Users\\Public\\Desktop\\Git Bash.lnk' is denied.\n"
    assert diagnose_source("input", tolerated + "Chocolatey installed 2/2 packages.\n").primary is None
    failed = (
        "Chocolatey installed 1/2 packages. 1 packages failed.\n\nFailures\n"
        " - vscode (exited 1603) - Error while running 'C:\\ProgramData\\chocolatey\\lib\\vscode\\tools\\chocolateyInstall.ps1'.\n"
    )
    assert diagnose_source("input", tolerated + failed).primary.category == "customizer_failed"


def test_the_lines_a_warning_wraps_onto_are_the_warnings():
    warning = (
        "TASK [rust : Install] ******************\n"
        "[WARNING]: Consider using the get_url or uri module rather than running 'curl'.  If you need to use\n"
        "command because get_url or uri is insufficient you can add 'warn: false' to this command task or set\n"
    )
    assert diagnose_source("input", warning).primary is None
    # a line with its own label after a warning is not the warning's: rustup's error, grub-install's
    refused = "warning: it looks like you have an existing installation of Rust at:\nerror: cannot install while Rust is installed\n"
    assert diagnose_source("input", refused).status == "failed"
    # Python's warnings quote their source line, indented, under the warning
    python = (
        "/usr/lib/python3/dist-packages/azure/appconfiguration/_generated/models/_models.py:238: SyntaxWarning: invalid escape sequence '\\ '\n"
        '  """An error response from the service.\n'
    )
    assert diagnose_source("input", python).primary is None
    assert diagnose_source("input", python + "ERROR: (AuthorizationFailed) The client does not have authorization\n").primary.category == "permissions"


def test_a_terminal_wrap_of_a_prefixed_log_line_is_measured_on_the_whole_line():
    line = "[4e1b8f0a-6c2d-4b3e-9f10-2a3b4c5d6e7f] PACKER OUT     azure-arm: Cannot find any service with service name 'WindowsAzureTelemetryService'."
    wrapped = "\n".join(line[i : i + 80] for i in range(0, len(line), 80))
    assert diagnose_source("input", wrapped).primary.rule == "AIB060"


def test_an_error_before_packer_runs_its_post_processors_did_not_fail_the_build():
    text = (
        "    virtualbox-iso: dd: writing to '/dev/sda3': No space left on device\n"
        "==> virtualbox-iso: Gracefully halting virtual machine...\n"
        "==> virtualbox-iso: Running post-processor: vagrant\n"
    )
    assert diagnose_source("input", text).primary is None
    assert diagnose_source("input", text.replace("Running post-processor: vagrant", "Exporting virtual machine...")).primary.rule == "AIB082"


def test_a_warning_a_benign_rule_explains_does_not_hide_the_failure_after_it():
    warning = "Failed to query principal type for 93b3 by invoking Graph API.\nAssuming 93b3 as an object ID.\n"
    assert diagnose_source("input", warning).primary is None
    failed = diagnose_source("input", warning + "(PrincipalNotFound) Principal 93b3 does not exist in the directory 72f9.\n")
    assert failed.primary.category == "permissions" and "AIB119" in {f.rule for f in failed.findings}
