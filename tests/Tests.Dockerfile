# The `tests` service of deploy/docker-compose.yml: the whole suite, run by ./scripts/test.sh
# against the compose postgres and rabbitmq (TEST_POSTGRES, TEST_RABBITMQ). The build context
# is the repository root. The sources are copied, not mounted, so the host's bin/ and obj/
# (built for the host's paths) never mix with the container's.

FROM mcr.microsoft.com/dotnet/sdk:10.0
ENV DOTNET_NOLOGO=1 \
    DOTNET_CLI_TELEMETRY_OPTOUT=1 \
    DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# The SDK image's non-root user (uid 1654, home /home/app for the NuGet cache).
RUN install -d -o app -g app /src
USER app
WORKDIR /src

# Restore from the project files alone, so a code change reuses the cached packages. Every
# project of Registration.slnx is listed here (tests/Deployment.Tests checks it).
COPY --chown=app:app global.json Directory.Build.props Directory.Packages.props Registration.slnx ./
COPY --chown=app:app shared/Contracts/Contracts.csproj shared/Contracts/
COPY --chown=app:app shared/Hosting/Hosting.csproj shared/Hosting/
COPY --chown=app:app services/Registration.Api/Registration.Api.csproj services/Registration.Api/
COPY --chown=app:app services/Notification.Worker/Notification.Worker.csproj services/Notification.Worker/
COPY --chown=app:app tests/Registration.Testing/Registration.Testing.csproj tests/Registration.Testing/
COPY --chown=app:app tests/Registration.Api.Tests/Registration.Api.Tests.csproj tests/Registration.Api.Tests/
COPY --chown=app:app tests/Notification.Worker.Tests/Notification.Worker.Tests.csproj tests/Notification.Worker.Tests/
COPY --chown=app:app tests/Deployment.Tests/Deployment.Tests.csproj tests/Deployment.Tests/
COPY --chown=app:app tests/EndToEnd.Tests/EndToEnd.Tests.csproj tests/EndToEnd.Tests/
COPY --chown=app:app tests/Resilience.Tests/Resilience.Tests.csproj tests/Resilience.Tests/
COPY --chown=app:app bench/Registration.Bench/Registration.Bench.csproj bench/Registration.Bench/
RUN dotnet restore Registration.slnx

# Everything else (.dockerignore keeps bin/, obj/, .git and .env out). Built here so that a
# compile error shows at build time and `run` starts straight into the tests.
COPY --chown=app:app . .
RUN dotnet build Registration.slnx --no-restore

CMD ["./scripts/test.sh"]
