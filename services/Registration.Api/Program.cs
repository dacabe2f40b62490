namespace Registration.Api; public partial class Program { public static void Main() { } }
