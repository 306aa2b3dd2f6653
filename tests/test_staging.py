"""The log location in every era of the failure message, and every route to the staging group."""

from __future__ import annotations

from aib_doctor.template.staging import (
    LogLocation,
    choose_staging_group,
    parse_log_location,
    staging_name_matches,
    strip_cli_wrapper,
)

ERA_2020 = (
    "Failed while waiting for packerizer: Microservice has failed: Failed while processing request: Error when executing "
    "packerizer: Packer build command has failed: exit status 1. During the image build, a failure has occurred, please "
    "review the build log to identify which build/customization step failed. For more troubleshooting steps go to "
    "https://aka.ms/azvmimagebuilderts. Image Build log location: https://a1b2c3d4e5f6a7b8c9d0e1f2.blob.core.windows.net/"
    "packerlogs/9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d/customization.log. OperationId: 45f485cf-5a8c-4379-9937-8d85493bc791. "
    "Use this operationId to search packer logs."
)
ERA_2021 = (
    "During the image build a failure has occurred. Please review the build log to identify which build/customization step "
    "failed. For more troubleshooting steps go to https://aka.ms/azvmimagebuilderts. Image build log location: "
    "https://stgaib01.blob.core.usgovcloudapi.net/packerlogs/1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b/customization.log. "
    "OperationId: 0c9b8a7d-6e5f-4a3b-9c8d-7e6f5a4b3c2d. Use this operationId to search packer logs."
)
ERA_2024 = (
    "During the image build a failure has occurred. Packer build logs are at location /subscriptions/"
    "11111111-2222-3333-4444-555555555555/resourceGroups/IT_rg-images_web01_6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d/providers/"
    "Microsoft.Storage/storageAccounts/zx9y8w7v6u5t4s3r2q1p0o9n/blobServices/default/containers/packerlogs/"
    "77aa88bb-99cc-4ddd-8eee-ff0011223344/customization.log. Please navigate to this location using portal or other tools "
    "to download logs for identifying which build/customization step failed. Use this operationId "
    "b0c1d2e3-f4a5-4b6c-8d7e-9f0a1b2c3d4e to search packer logs. For more troubleshooting steps go to https://aka.ms/azvmimagebuilderts."
)


def test_2020_blob_url_form():
    assert parse_log_location(ERA_2020) == LogLocation(
        account="a1b2c3d4e5f6a7b8c9d0e1f2",
        blob="9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d/customization.log",
        url="https://a1b2c3d4e5f6a7b8c9d0e1f2.blob.core.windows.net/packerlogs/9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d/customization.log",
        operation_id="45f485cf-5a8c-4379-9937-8d85493bc791",
    )


def test_2021_lower_case_form_in_a_sovereign_cloud():
    location = parse_log_location(ERA_2021)
    assert location.account == "stgaib01"
    assert location.url.startswith("https://stgaib01.blob.core.usgovcloudapi.net/packerlogs/")
    assert location.blob == "1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b/customization.log"
    assert location.operation_id == "0c9b8a7d-6e5f-4a3b-9c8d-7e6f5a4b3c2d"


def test_2024_arm_path_form_names_the_staging_group():
    location = parse_log_location(ERA_2024)
    assert location == LogLocation(
        account="zx9y8w7v6u5t4s3r2q1p0o9n",
        blob="77aa88bb-99cc-4ddd-8eee-ff0011223344/customization.log",
        resource_group="IT_rg-images_web01_6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d",
        subscription="11111111-2222-3333-4444-555555555555",
        operation_id="b0c1d2e3-f4a5-4b6c-8d7e-9f0a1b2c3d4e",
    )


def test_cli_wrapper_is_stripped():
    wrapped = "Deployment failed. Correlation ID: 7d6c5b4a-3e2f-4a1b-9c8d-7e6f5a4b3c2d. " + ERA_2020
    assert strip_cli_wrapper(wrapped) == ERA_2020
    assert parse_log_location(wrapped).account == "a1b2c3d4e5f6a7b8c9d0e1f2"


def test_messages_without_a_location():
    assert parse_log_location("") is None
    assert parse_log_location("Failed while waiting for packerizer: Timeout waiting for microservice to complete") is None


def test_truncated_staging_names():
    assert staging_name_matches("IT_rg-images_imagebuilderTempla_0f1e2d3c-4b5a-4978-8a9b-0c1d2e3f4a5b", "rg-images", "imagebuilderTemplateWin2022")
    assert staging_name_matches("IT_RG-IMAGES_web01_0f1e2d3c-4b5a-4978-8a9b-0c1d2e3f4a5b", "rg-images", "web01")
    assert not staging_name_matches("IT_rg-images_web02_0f1e2d3c-4b5a-4978-8a9b-0c1d2e3f4a5b", "rg-images", "web01")
    assert not staging_name_matches("IT_rg-images_0f1e2d3c-4b5a-4978-8a9b-0c1d2e3f4a5b", "rg-images", "web01")
    assert not staging_name_matches("rg-images-web01", "rg-images", "web01")


GROUPS = [
    ("IT_rg-images_web01_0f1e2d3c-4b5a-4978-8a9b-0c1d2e3f4a5b", {}),
    ("custom-staging", {"imageTemplateName": "web01", "imageTemplateResourceGroupName": "rg-images", "usedBy": "AzureVMImageBuilder"}),
    ("unrelated", {"imageTemplateName": "web02", "imageTemplateResourceGroupName": "rg-images"}),
]


def test_staging_routes_in_order():
    failed = {"lastRunStatus": {"message": ERA_2024}}
    assert choose_staging_group("rg-images", "web01", failed, GROUPS).route == "message"
    exact = {"exactStagingResourceGroup": "/subscriptions/1/resourceGroups/IT_exact_1", "stagingResourceGroup": "/subscriptions/1/resourceGroups/other"}
    assert choose_staging_group("rg-images", "web01", exact, GROUPS) == choose_staging_group("rg-images", "web01", exact, [])
    assert choose_staging_group("rg-images", "web01", exact, GROUPS).group == "IT_exact_1"
    custom = {"stagingResourceGroup": "/subscriptions/1/resourceGroups/my-staging"}
    assert (choose_staging_group("rg-images", "web01", custom, GROUPS).group, choose_staging_group("rg-images", "web01", custom, GROUPS).route) == (
        "my-staging",
        "stagingResourceGroup",
    )
    tagged = choose_staging_group("rg-images", "web01", {"lastRunStatus": {"message": ERA_2020}}, GROUPS)
    assert (tagged.group, tagged.route) == ("custom-staging", "tags")
    named = choose_staging_group("rg-images", "web01", {}, [GROUPS[0], GROUPS[2]])
    assert (named.group, named.route) == ("IT_rg-images_web01_0f1e2d3c-4b5a-4978-8a9b-0c1d2e3f4a5b", "name")
    assert choose_staging_group("rg-images", "web01", {}, [GROUPS[2]]) is None
