return LayerDiffusion.Native.Cli.CommandLine.Run(args);
