# aib-doctor in a container: `check` as a Kubernetes CronJob or an Azure Container Apps job with a managed
# identity (docs/scheduling.md). Any command works: docker run --rm -v "$PWD:/work" -w /work aib-doctor analyze customization.log
#
#   docker build -t aib-doctor .
#   docker run --rm aib-doctor --version

# The wheel is built in a stage of its own, so the image holds the installed package and nothing of the source tree.
FROM python:3.12-slim AS wheel
WORKDIR /src
COPY pyproject.toml README.md ./
COPY aib_doctor ./aib_doctor
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.12-slim
COPY --from=wheel /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl \
    && rm -rf /wheels \
    && useradd --create-home --uid 10001 --shell /usr/sbin/nologin aib \
    && install -d -o aib -g aib -m 0700 /var/lib/aib-doctor
# check's state (SQLite) and evidence: mount a volume here so new failures are reported once, not every run.
ENV AIB_DOCTOR_STATE=/var/lib/aib-doctor \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
VOLUME ["/var/lib/aib-doctor"]
USER 10001:10001
ENTRYPOINT ["aib-doctor"]
CMD ["check", "--all-subscriptions", "--output", "json"]
