"""The template checks (TPL###): each one a small function over a TemplateView, registered with its prose."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from aib_doctor.core.redact import find_secrets
from aib_doctor.lint.registry import check
from aib_doctor.lint.views import TemplateView

CUSTOMIZER_TYPES = ("Shell", "PowerShell", "File", "WindowsRestart", "WindowsUpdate")
SOURCE_TYPES = ("PlatformImage", "ManagedImage", "SharedImageVersion")
DISTRIBUTOR_TYPES = ("ManagedImage", "SharedImage", "VHD")
VALIDATOR_TYPES = ("Shell", "PowerShell", "File")
SMALL_SIZES = {"standard_d1_v2", "standard_a1_v2", "standard_b1s", "standard_b1ms", "standard_a1", "standard_ds1_v2"}
LARGE_FILE = re.compile(r"\.(?:iso|zip|7z|msi|msix|exe|vhdx?|tar|tgz|gz|cab|wim|img|bin)(?:\?|$)", re.I)


def _script_lines(view: TemplateView) -> Iterator[tuple[str, str, dict]]:
    """(pointer, line, customizer) for every inline script line of Shell and PowerShell customizers."""
    for index, customizer in view.customizers():
        for number, line in enumerate(customizer.get("inline") or []):
            if isinstance(line, str):
                yield view.at("customize", index, "inline", number), line, customizer


def _script_matches(view: TemplateView, pattern: re.Pattern) -> Iterator[tuple[str, str]]:
    for pointer, line, _ in _script_lines(view):
        m = pattern.search(line)
        if m:
            yield pointer, f"`{m.group(0).strip()}` in an inline script"


@check(
    "TPL001",
    "identity.missing",
    "error",
    "template_invalid",
    "The template has no user-assigned identity",
    "Every template needs a user-assigned managed identity; without one the submission fails with \"Missing field 'identity'\".",
    'Add identity {"type": "UserAssigned", "userAssignedIdentities": {"<identity id>": {}}} to the resource.',
    explains=("AIB024",),
)
def identity_missing(view: TemplateView):
    identity = view.root.get("identity")
    if not isinstance(identity, dict) or not identity.get("userAssignedIdentities"):
        yield view.root_pointer + "/identity", "no identity with a user-assigned identity"


@check(
    "TPL002",
    "timeout.too-short",
    "error",
    "template_invalid",
    "buildTimeoutInMinutes of 1 to 5 fails every build",
    "A timeout of 5 minutes or less gives Packer a token that expires before the build starts (client_jwt will expire within 5 minutes).",
    "Use 0 (the default, 240 minutes) or at least 6; Windows builds need 60 or more.",
    explains=("AIB045",),
)
def timeout_too_short(view: TemplateView):
    timeout = view.properties.get("buildTimeoutInMinutes")
    if isinstance(timeout, int) and 1 <= timeout <= 5:
        yield view.at("buildTimeoutInMinutes"), f"buildTimeoutInMinutes is {timeout}"


@check(
    "TPL003",
    "timeout.too-long",
    "error",
    "template_invalid",
    "buildTimeoutInMinutes is over 960",
    "The service accepts at most 960 minutes (16 hours); a larger value is rejected at submission.",
    "Set buildTimeoutInMinutes to 960 or less, and make the build faster if it needs that long.",
)
def timeout_too_long(view: TemplateView):
    timeout = view.properties.get("buildTimeoutInMinutes")
    if isinstance(timeout, int) and timeout > 960:
        yield view.at("buildTimeoutInMinutes"), f"buildTimeoutInMinutes is {timeout}"


@check(
    "TPL004",
    "timeout.low-for-windows",
    "warning",
    "build_timeout",
    "The timeout is short for a Windows build",
    "Windows builds, and Windows Update in particular, often take over an hour; a timeout under 60 minutes ends them midway.",
    "Raise buildTimeoutInMinutes to at least 60 (120 or more with Windows Update), or leave it 0 for the 240-minute default.",
    explains=("AIB007",),
)
def timeout_low_for_windows(view: TemplateView):
    timeout = view.properties.get("buildTimeoutInMinutes")
    updates = any(str(c.get("type", "")).lower() == "windowsupdate" for _, c in view.customizers())
    if isinstance(timeout, int) and 6 <= timeout < (120 if updates else 60) and view.is_windows():
        yield view.at("buildTimeoutInMinutes"), f"buildTimeoutInMinutes is {timeout} for a Windows build" + (" with Windows Update" if updates else "")


@check(
    "TPL005",
    "vmsize.small-for-windows",
    "warning",
    "resource_exhaustion",
    "The build VM is too small for a Windows build",
    "The default build VM (Standard_D1_v2, 1 vCPU and 3.5 GB) is too slow for Windows: Sysprep times out waiting for the guest agent (the classic Sysprep-timing failure) and Windows Update runs out of resources (exit 101, 1115, unexpected EOF).",
    "Set vmProfile.vmSize to Standard_D2s_v3 or larger for Windows images.",
    explains=("AIB010", "AIB012", "AIB052"),
)
def vmsize_small_for_windows(view: TemplateView):
    if not view.is_windows():
        return
    size = (view.properties.get("vmProfile") or {}).get("vmSize")
    if not size or str(size).lower() in SMALL_SIZES:
        updates = any(str(c.get("type", "")).lower() == "windowsupdate" for _, c in view.customizers())
        where = view.at("vmProfile", "vmSize") if size else view.at("vmProfile")
        yield where, f"vmSize is {size or 'not set (Standard_D1_v2 by default)'} for a Windows build" + (" with a WindowsUpdate customizer" if updates else "")


_INSTALL = re.compile(
    r"\b(?:(apt-get|apt)\s+(?:[-\w=]+\s+)*?(?:install|upgrade|dist-upgrade|full-upgrade)"
    r"|(yum|dnf)\s+(?:[-\w=]+\s+)*?(?:install|update|upgrade)|(zypper)\s+(?:[-\w=]+\s+)*?(?:install|in|update|up|dist-upgrade|dup)"
    r"|(choco)\s+(?:[-\w=]+\s+)*?(?:install|upgrade))\b",
    re.I,
)
"""Package commands that install or upgrade, and so may ask (apt-get update only refreshes lists: it never asks)."""
_YES = {
    "apt-get": re.compile(r"(?:^|\s)(?:-y|--yes|--assume-yes|-qq?y|-yq+)\b|DEBIAN_FRONTEND=noninteractive"),
    "apt": re.compile(r"(?:^|\s)(?:-y|--yes|--assume-yes)\b|DEBIAN_FRONTEND=noninteractive"),
    "yum": re.compile(r"(?:^|\s)(?:-y|--assumeyes)\b"),
    "dnf": re.compile(r"(?:^|\s)(?:-y|--assumeyes)\b"),
    "zypper": re.compile(r"(?:--non-interactive|\s-n\s|(?:^|\s)-y\b|--no-confirm)"),
    "choco": re.compile(r"(?:^|\s)(?:-y|--yes|--confirm|--accept-license)\b", re.I),
}


@check(
    "TPL006",
    "script.interactive-install",
    "warning",
    "build_timeout",
    "A package install may wait for an answer",
    "An install command without its non-interactive flag waits for a prompt that never comes, until the build times out.",
    "Add -y (apt-get, yum, dnf, choco) or --non-interactive (zypper), and export DEBIAN_FRONTEND=noninteractive for apt.",
    explains=("AIB007",),
)
def interactive_install(view: TemplateView):
    for pointer, line, _ in _script_lines(view):
        m = _INSTALL.search(line)
        if m and not _YES[next(g for g in m.groups() if g).lower()].search(line):
            yield pointer, f"`{line.strip()[:120]}` has no non-interactive flag"


_REMOTE_ACCESS = re.compile(
    r"\bufw\s+(?:enable|deny|default)|\biptables(?![-\w])(?!\s+-(?:L|S|-list)\b)|\bnft\b|\bfirewall-cmd\b|netsh\s+advfirewall|Set-NetFirewallProfile|"
    r"New-NetFirewallRule|(?:\bsed\s+(?:-\w+\s+)*-i|>|\btee\b|Set-Content|Add-Content|Out-File)[^;\n]*sshd_config|\bDisable-PSRemoting\b|\bwinrm\s+(?:set|delete|quickconfig)|Stop-Service\s+WinRM|Set-Service\s+WinRM",
    re.I,
)


@check(
    "TPL007",
    "script.firewall-or-remote-access",
    "warning",
    "network",
    "A script changes the firewall, SSH or WinRM",
    "The service reaches the build VM over SSH (22) or WinRM (5986) for the whole build; a script that turns on a firewall or reconfigures sshd or WinRM can cut it off, and the build is cancelled.",
    "Apply firewall and remote-access hardening at first boot of the VMs (or keep 22/5986 open to the build), not during the image build.",
    explains=("AIB014", "AIB052", "AIB053"),
)
def firewall_or_remote_access(view: TemplateView):
    yield from _script_matches(view, _REMOTE_ACCESS)


_REBOOT = re.compile(r"\bRestart-Computer\b|\bshutdown(?:\.exe)?\s+(?:/r|-r)\b|(?:^|[;&|]\s*|sudo\s+)reboot\b", re.I)


@check(
    "TPL008",
    "script.reboots",
    "warning",
    "customizer_failed",
    "A script reboots the VM itself",
    "A reboot inside a script ends the remote command without an exit status; Packer loses the VM and the build fails.",
    "Remove the reboot. On Windows, add a WindowsRestart customizer after the script; on Linux, Image Builder has no restart customizer: make the change take effect without one (restart the service), or leave it for the VMs' first boot.",
    explains=("AIB066", "AIB014"),
)
def script_reboots(view: TemplateView):
    yield from _script_matches(view, _REBOOT)


_DEPROVISION = re.compile(
    r"(?:Remove-Item|\brm\b|\bdel\b|\berase\b)[^;\n]*DeprovisioningScript|"
    r"\brm\s+-\w*r\w*\s+/tmp/\*|Remove-Item\s+[\"']?C:\\\\?\*",
    re.I,
)


@check(
    "TPL009",
    "script.deletes-deprovisioning-script",
    "error",
    "deprovision",
    "A script deletes the deprovisioning script",
    "Image Builder generalizes the VM with c:\\DeprovisioningScript.ps1 or /tmp/DeprovisioningScript.sh after the customizers; a script that deletes it (or all of /tmp) leaves the image ungeneralized.",
    "Leave the deprovisioning script alone; to change the command, overwrite it with a full replacement in a dedicated customizer.",
    explains=("AIB016",),
)
def deletes_deprovisioning_script(view: TemplateView):
    for pointer, line, _ in _script_lines(view):
        if _DEPROVISION.search(line):
            yield pointer, f"`{line.strip()[:120]}` removes the deprovisioning script"


@check(
    "TPL010",
    "file.destination",
    "error",
    "customizer_failed",
    "A File customizer writes outside /tmp on Linux",
    "On Linux the File customizer can only write to /tmp; other destinations fail to upload.",
    "Upload to /tmp and move the file into place with a Shell customizer (sudo mv).",
)
def file_destination(view: TemplateView):
    if view.is_windows():
        return
    for index, customizer in view.customizers():
        destination = customizer.get("destination")
        if str(customizer.get("type", "")).lower() == "file" and isinstance(destination, str) and not (destination + "/").startswith("/tmp/"):
            yield view.at("customize", index, "destination"), f"destination is {destination}"


@check(
    "TPL011",
    "file.large-download",
    "warning",
    "artifact_download",
    "A File customizer downloads what looks like a large file",
    "The File customizer is meant for files under 20 MB; installers, archives and disk images through it can take hours and use up the build timeout.",
    "Download large files in a script (curl/wget, Invoke-WebRequest), ideally from storage in the build's region.",
    explains=("AIB008", "AIB007"),
)
def file_large(view: TemplateView):
    for index, customizer in view.customizers():
        source = customizer.get("sourceUri")
        if str(customizer.get("type", "")).lower() == "file" and isinstance(source, str) and LARGE_FILE.search(source.split("?")[0]):
            yield view.at("customize", index, "sourceUri"), f"sourceUri {source.split('?')[0]} looks like an installer or archive"


@check(
    "TPL012",
    "script.source",
    "error",
    "template_invalid",
    "A script customizer needs exactly one of scriptUri and inline",
    "Shell and PowerShell customizers take either a scriptUri or inline commands, not both and not neither; the submission is rejected.",
    "Keep one of scriptUri or inline.",
)
def script_source(view: TemplateView):
    for index, customizer in view.customizers():
        if str(customizer.get("type", "")).lower() in ("shell", "powershell"):
            has_uri, has_inline = bool(customizer.get("scriptUri")), bool(customizer.get("inline"))
            if has_uri == has_inline:
                yield view.at("customize", index), "both scriptUri and inline" if has_uri else "neither scriptUri nor inline"


@check(
    "TPL013",
    "script.no-checksum",
    "warning",
    "artifact_download",
    "A scriptUri has no sha256Checksum",
    "Without a checksum the build runs whatever the URI serves at build time, including a changed or tampered script.",
    "Add sha256Checksum (lower-case hex of the file's SHA-256) next to scriptUri.",
)
def script_no_checksum(view: TemplateView):
    for index, customizer in view.customizers():
        if customizer.get("scriptUri") and not customizer.get("sha256Checksum"):
            yield view.at("customize", index, "scriptUri"), "no sha256Checksum"


def _type_problem(value, known: tuple[str, ...]) -> str | None:
    if not isinstance(value, str):
        return "no type"
    if value in known:
        return None
    match = next((k for k in known if k.lower() == value.lower()), None)
    return f"'{value}' should be '{match}'" if match else f"'{value}' is not one of {', '.join(known)}"


@check(
    "TPL014",
    "type.casing",
    "error",
    "template_invalid",
    "A type name is misspelled or in the wrong case",
    "Type names are case-sensitive; a wrong case or unknown type fails the submission (Field '...type' has a bad value).",
    "Use the exact type names.",
    explains=("AIB023", "AIB022"),
)
def type_casing(view: TemplateView):
    source = view.properties.get("source")
    if isinstance(source, dict):
        problem = _type_problem(source.get("type"), SOURCE_TYPES)
        if problem:
            yield view.at("source", "type"), problem
    for index, customizer in view.customizers():
        problem = _type_problem(customizer.get("type"), CUSTOMIZER_TYPES)
        if problem:
            yield view.at("customize", index, "type"), problem
    for index, target in view.distributors():
        problem = _type_problem(target.get("type"), DISTRIBUTOR_TYPES)
        if problem:
            yield view.at("distribute", index, "type"), problem
    for index, validator in enumerate((view.properties.get("validate") or {}).get("inVMValidations") or []):
        problem = _type_problem(validator.get("type") if isinstance(validator, dict) else None, VALIDATOR_TYPES)
        if problem:
            yield view.at("validate", "inVMValidations", index, "type"), problem


@check(
    "TPL015",
    "distribute.duplicate-run-output",
    "error",
    "template_invalid",
    "Two distribution targets share a runOutputName",
    "runOutputName must be unique within a template; duplicates are rejected.",
    "Give every distribution target its own runOutputName.",
)
def duplicate_run_output(view: TemplateView):
    seen: dict[str, int] = {}
    for index, target in view.distributors():
        name = target.get("runOutputName")
        if isinstance(name, str):
            if name.lower() in seen:
                yield view.at("distribute", index, "runOutputName"), f"'{name}' is also used by distribute[{seen[name.lower()]}]"
            seen.setdefault(name.lower(), index)


@check(
    "TPL016",
    "distribute.both-region-lists",
    "error",
    "template_invalid",
    "A gallery target sets both replicationRegions and targetRegions",
    "replicationRegions (deprecated) and targetRegions are mutually exclusive.",
    "Keep targetRegions and remove replicationRegions.",
)
def both_region_lists(view: TemplateView):
    for index, target in view.distributors():
        if target.get("replicationRegions") and target.get("targetRegions"):
            yield view.at("distribute", index), "both replicationRegions and targetRegions"


@check(
    "TPL017",
    "source.plan-info-misplaced",
    "error",
    "source_image",
    "planInfo is outside source",
    "A marketplace plan is read only from source.planInfo; elsewhere it is ignored and the build fails with PurchasePlanNotProvided.",
    "Move planInfo {planName, planProduct, planPublisher} inside source.",
    explains=("AIB035",),
)
def plan_info_misplaced(view: TemplateView):
    if "planInfo" in view.properties:
        yield view.at("planInfo"), "planInfo at properties level"
    for index, target in view.distributors():
        if "planInfo" in target:
            yield view.at("distribute", index, "planInfo"), "planInfo in a distribution target"


def _vnet(view: TemplateView) -> dict:
    return ((view.properties.get("vmProfile") or {}).get("vnetConfig")) or {}


@check(
    "TPL018",
    "vnet.proxy-with-container-subnet",
    "error",
    "template_invalid",
    "proxyVmSize is set together with containerInstanceSubnetId",
    "With a container instance subnet no proxy VM is used; setting proxyVmSize with it is rejected.",
    "Remove proxyVmSize.",
)
def proxy_with_container_subnet(view: TemplateView):
    vnet = _vnet(view)
    if vnet.get("proxyVmSize") and vnet.get("containerInstanceSubnetId"):
        yield view.at("vmProfile", "vnetConfig", "proxyVmSize"), "proxyVmSize with containerInstanceSubnetId"


@check(
    "TPL019",
    "vnet.container-subnet-alone",
    "error",
    "template_invalid",
    "containerInstanceSubnetId is set without subnetId",
    "The container instance subnet works only together with a build subnet (subnetId) in the same VNet.",
    "Add subnetId (a different subnet of the same VNet) or remove containerInstanceSubnetId.",
)
def container_subnet_alone(view: TemplateView):
    vnet = _vnet(view)
    if vnet.get("containerInstanceSubnetId") and not vnet.get("subnetId"):
        yield view.at("vmProfile", "vnetConfig", "containerInstanceSubnetId"), "no subnetId"


@check(
    "TPL020",
    "secrets.in-template",
    "error",
    "permissions",
    "A secret or SAS token is written into the template",
    "Templates are readable by anyone with Reader on the resource group and are copied into the staging group; SAS signatures, keys and passwords in them leak.",
    "Give the identity Storage Blob Data Reader instead of SAS URLs, and read secrets from Key Vault inside the script.",
)
def secrets_in_template(view: TemplateView):
    """The shapes redaction hides (core/secret_shapes.py), looked for in every string of the resource, each with its key
    (so `"adminPassword": "..."` counts), and in each inline script as a whole (a private key spread over its lines)."""
    shapes: dict[str, set[str]] = {}
    for pointer, key, value in _strings(view.root, view.root_pointer):
        prefix = f"{json.dumps(key)}: "
        text = prefix + json.dumps(value)
        shapes.setdefault(pointer, set()).update(f.shape.name for f in find_secrets(text) if f.start >= len(prefix))
    for index, customizer in view.customizers():
        lines = customizer.get("inline")
        if isinstance(lines, list) and all(isinstance(line, str) for line in lines):
            script = "\n".join(lines)
            for found in find_secrets(script):
                pointer = view.at("customize", index, "inline", script.count("\n", 0, found.start))
                shapes.setdefault(pointer, set()).add(found.shape.name)
    for pointer, names in shapes.items():
        if names:
            yield pointer, f"a secret in the template ({', '.join(sorted(names))})"


def _strings(value, pointer: str) -> Iterator[tuple[str, str, str]]:
    """(pointer, key, text) for every string in a JSON value; a list item's key is its parent's."""
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        here = f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}"
        if isinstance(item, str):
            yield here, str(key) if isinstance(value, dict) else pointer.rsplit("/", 1)[-1], item
        else:
            yield from _strings(item, here)


@check(
    "TPL021",
    "powershell.system-without-elevation",
    "error",
    "template_invalid",
    "runAsSystem needs runElevated",
    "A PowerShell customizer can run as SYSTEM only when it also runs elevated; runAsSystem alone is rejected.",
    "Set runElevated to true as well, or drop runAsSystem.",
)
def system_without_elevation(view: TemplateView):
    for index, customizer in view.customizers():
        if str(customizer.get("type", "")).lower() == "powershell" and customizer.get("runAsSystem") and not customizer.get("runElevated"):
            yield view.at("customize", index, "runAsSystem"), "runAsSystem without runElevated"


_OVERWRITE = re.compile(r"(?:Set-Content|Out-File|Copy-Item|>|\bcp\b|\bmv\b|Move-Item)[^;\n]*DeprovisioningScript", re.I)


@check(
    "TPL022",
    "script.overwrites-deprovisioning-script",
    "warning",
    "deprovision",
    "A script overwrites the deprovisioning script",
    "Overwriting c:\\DeprovisioningScript.ps1 or /tmp/DeprovisioningScript.sh replaces how the image is generalized; an incomplete replacement leaves VMs that fail to provision or an old script that waits for services that no longer exist.",
    "Overwrite it only on purpose, with a complete script based on the current default (Sysprep /oobe /generalize, or waagent -deprovision+user).",
    explains=("AIB060", "AIB061", "AIB075"),
)
def overwrites_deprovisioning_script(view: TemplateView):
    for pointer, line, _ in _script_lines(view):
        if _OVERWRITE.search(line) and not _DEPROVISION.search(line):
            yield pointer, f"`{line.strip()[:120]}` replaces the deprovisioning script"


@check(
    "TPL023",
    "powershell.elevated-not-system",
    "info",
    "customizer_failed",
    "An elevated PowerShell customizer does not run as SYSTEM",
    "runElevated without runAsSystem runs the script elevated as the build's own user; installers that need the SYSTEM account, or that touch other users' profiles, behave differently than under SYSTEM.",
    "Add runAsSystem: true if the script needs the SYSTEM account; otherwise nothing to change.",
)
def elevated_not_system(view: TemplateView):
    for index, customizer in view.customizers():
        if str(customizer.get("type", "")).lower() == "powershell" and customizer.get("runElevated") and not customizer.get("runAsSystem"):
            yield view.at("customize", index, "runElevated"), "runElevated without runAsSystem"


_FIELDS = {
    (): (
        "source customize validate distribute buildTimeoutInMinutes vmProfile stagingResourceGroup optimize autoRun errorHandling "
        "managedResourceTags provisioningState provisioningError lastRunStatus exactStagingResourceGroup"
    ),
    ("vmProfile",): "vmSize osDiskSizeGB userAssignedIdentities vnetConfig",
    ("vmProfile", "vnetConfig"): "subnetId containerInstanceSubnetId proxyVmSize",
}
"""imageTemplate fields by object (api 2025-10-01): Image Builder rejects a field it does not know, and a miscased one."""


@check(
    "TPL024",
    "template.unknown-field",
    "error",
    "template_invalid",
    "A template field is misspelled or unknown",
    "Image Builder validates the template against its schema: an unknown or miscased field (osDiskSizeGb for osDiskSizeGB) fails the submission, or is ignored by older API versions so the setting silently never applies.",
    "Spell the field as the schema does (the message names it), or remove it.",
)
def unknown_field(view: TemplateView):
    if not view.base:
        return  # `az image builder show` output: the CLI re-cases every name from the SDK (osDiskSizeGb) and adds its own
    for path, names in _FIELDS.items():
        target = view.properties
        for key in path:
            target = target.get(key) if isinstance(target, dict) else None
        if not isinstance(target, dict):
            continue
        known = {name.lower(): name for name in names.split()}
        for field in target:
            if field in known.values():
                continue
            right = known.get(str(field).lower())
            yield view.at(*path, field), f"{field}: did you mean {right}?" if right else f"{field} is not a field of {'.'.join(path) or 'properties'}"
