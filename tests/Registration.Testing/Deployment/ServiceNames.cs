namespace Registration.Testing.Deployment;

/// <summary>
/// The names the deployment files give the services: the services of deploy/docker-compose.yml, and, for the
/// two of ours, the Deployments of deploy/kubernetes and the repositories of their images.
/// </summary>
public static class ServiceNames
{
    public const string Api = "registration-api";
    public const string Worker = "notification-worker";
    public const string Tests = "tests";
    public const string Postgres = "postgres";
    public const string RabbitMq = "rabbitmq";
    public const string Mailpit = "mailpit";
}
