extern alias Api;
using ApiTelemetry = Api::Registration.Api.Infrastructure.Telemetry;
using WorkerTelemetry = Notification.Worker.Infrastructure.Telemetry;

namespace Registration.Testing.Deployment;

/// <summary>
/// The names the deployment files give the services: the services of deploy/docker-compose.yml, and, for the
/// two of ours, the Deployments of deploy/kubernetes and the repositories of their images. Ours are named as
/// each service names itself in its telemetry (<c>service.name</c>), so that a trace, a metric and a pod lead
/// to one name: the deployment tests hold the files to the services' own constants, not to a copy of them.
/// </summary>
public static class ServiceNames
{
    public const string Api = ApiTelemetry.ServiceName;
    public const string Worker = WorkerTelemetry.ServiceName;
    public const string Tests = "tests";
    public const string Postgres = "postgres";
    public const string RabbitMq = "rabbitmq";
    public const string Mailpit = "mailpit";
}
