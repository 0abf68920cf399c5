global using Rift.Learning;
